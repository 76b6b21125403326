/**
 * Step shorthands and odd byte strings shared by the rows of the conformance table.
 */
import {
  CONNACK_OK,
  type ConnectSpec,
  connect,
  delivered,
  hex,
  packetIdOf,
  publish,
  suback,
  subscribe,
} from "./bytes.js";
import type { Conn, Step } from "./runner.js";

/** Open `c` and connect it (client id "id-<c>" unless given); CONNACK 0 expected. */
export const login = (c: Conn, spec: ConnectSpec = {}, connack = CONNACK_OK): Step[] => [
  { open: c },
  { send: c, bytes: connect({ id: `id-${c}`, ...spec }) },
  { expect: c, hex: connack },
];
export const sub = (c: Conn, filter: string, qos = 0, id = 1): Step[] => [
  { send: c, bytes: subscribe(id, [filter, qos]) },
  { expect: c, hex: suback(id, qos) },
];
/** Sends `bytes` on a fresh connection (no CONNECT first); the broker answers `answer`, then closes. */
export const refusedOnOpen = (bytes: Buffer, answer?: string): Step[] => [
  { open: "a" },
  { send: "a", bytes },
  ...(answer ? [{ expect: "a", hex: answer }] : []),
  { closed: "a" },
];
/** Sends `bytes` after a successful CONNECT; the broker closes without answering. */
export const closesAfterLogin = (bytes: Buffer): Step[] => [
  ...login("a"),
  { send: "a", bytes },
  { closed: "a" },
];
/** `pub` publishes a marker to `topic`; `subscriber` must receive it next (so nothing came before it). */
export const marker = (pub: Conn, subscriber: Conn, topic: string): Step[] => [
  { send: pub, bytes: publish(topic, "marker") },
  { expect: subscriber, hex: delivered(topic, "marker") },
];
export const ack = (c: Conn, make: (id: number) => Buffer): Step => ({
  send: c,
  bytes: (last) => make(packetIdOf(last)),
});

export const INVALID_UTF8 = hex("61 2f ff"); // "a/" then a byte that starts no UTF-8 sequence
export const SURROGATE = hex("61 ed a0 80"); // U+D800 encoded (CESU): ill-formed in UTF-8
export const OVERLONG = hex("61 c0 af"); // "/" as an overlong two-byte sequence
export const WITH_NUL = hex("61 00 62");
