/**
 * Conformance rows: SUBSCRIBE/SUBACK, UNSUBSCRIBE/UNSUBACK (§3.8–3.11), PINGREQ and DISCONNECT (§3.12, §3.14), the fixed header (§2).
 */
import {
  connect,
  DISCONNECT,
  delivered,
  frame,
  hex,
  PINGREQ,
  PINGRESP,
  puback,
  pubackHex,
  publish,
  str,
  suback,
  subscribe,
  u16,
  unsuback,
  unsubscribe,
} from "./bytes.js";
import type { Row } from "./runner.js";
import {
  ack,
  closesAfterLogin,
  INVALID_UTF8,
  login,
  marker,
  refusedOnOpen,
  SURROGATE,
  sub,
  WITH_NUL,
} from "./steps.js";

export const SUBSCRIBE_ROWS: readonly Row[] = [
  // ---- §3.8 SUBSCRIBE, §3.9 SUBACK ----
  {
    clause: "MQTT-3.8.4-1",
    title: "SUBACK has the SUBSCRIBE's packet id and one code per filter, in order (MQTT-3.8.4-4)",
    steps: [
      ...login("a"),
      { send: "a", bytes: subscribe(0x4242, ["t/0", 0], ["t/1", 1], ["t/2", 2]) },
      { expect: "a", hex: suback(0x4242, 0, 1, 2) },
    ],
  },
  {
    clause: "MQTT-3.8.4-6",
    title: "a QoS 1 message to a QoS 0 subscription is delivered at QoS 0",
    steps: [
      ...login("b"),
      ...sub("b", "t/a", 0),
      ...login("a"),
      { send: "a", bytes: publish("t/a", "down", { qos: 1, id: 4 }) },
      { expect: "a", hex: pubackHex(4) },
      { expect: "b", hex: delivered("t/a", "down") },
    ],
  },
  {
    clause: "MQTT-3.8.4-3",
    title: "subscribing again to the same filter replaces it (new QoS, one delivery)",
    steps: [
      ...login("b"),
      ...sub("b", "t/a", 0, 1),
      ...sub("b", "t/a", 1, 2),
      ...login("a"),
      { send: "a", bytes: publish("t/a", "x", { qos: 1, id: 4 }) },
      { expect: "a", hex: pubackHex(4) },
      { expect: "b", hex: delivered("t/a", "x", { qos: 1 }) },
      ack("b", puback),
      ...marker("a", "b", "t/a"),
    ],
  },
  {
    clause: "MQTT-3.8.3-3",
    title: "SUBSCRIBE with no topic filter closes",
    steps: closesAfterLogin(frame(0x82, u16(1))),
  },
  {
    clause: "MQTT-3-8.3-4",
    title: "SUBSCRIBE requesting QoS 3 closes",
    steps: closesAfterLogin(subscribe(1, ["a/b", 3])),
  },
  {
    clause: "MQTT-3-8.3-4",
    title: "SUBSCRIBE with a reserved bit set in the requested QoS byte closes",
    steps: closesAfterLogin(subscribe(1, ["a/b", 0x04])),
  },
  {
    clause: "MQTT-3.8.1-1",
    title: "SUBSCRIBE with fixed header flags 0000 closes",
    steps: closesAfterLogin(frame(0x80, u16(1), str("a/b"), Buffer.from([0]))),
  },
  {
    clause: "MQTT-2.3.1-1",
    title: "SUBSCRIBE with packet id 0 closes",
    steps: closesAfterLogin(subscribe(0, ["a/b", 0])),
  },
  {
    clause: "MQTT-4.7.1-2",
    title: "SUBSCRIBE to a/#/b closes",
    steps: closesAfterLogin(subscribe(1, ["a/#/b", 0])),
  },
  {
    clause: "MQTT-4.7.1-2",
    title: "SUBSCRIBE to a# closes",
    steps: closesAfterLogin(subscribe(1, ["a#", 0])),
  },
  {
    clause: "MQTT-4.7.1-3",
    title: "SUBSCRIBE to a+ closes",
    steps: closesAfterLogin(subscribe(1, ["a+", 0])),
  },
  {
    clause: "MQTT-4.7.3-1",
    title: "SUBSCRIBE to an empty filter closes",
    steps: closesAfterLogin(subscribe(1, ["", 0])),
  },
  {
    clause: "MQTT-1.5.3-1",
    title: "SUBSCRIBE filter with invalid UTF-8 closes",
    steps: closesAfterLogin(subscribe(1, [INVALID_UTF8, 0])),
  },
  {
    clause: "MQTT-1.5.3-2",
    title: "SUBSCRIBE filter with U+0000 closes",
    steps: closesAfterLogin(subscribe(1, [WITH_NUL, 0])),
  },
  {
    clause: "MQTT-4.7.2-1",
    title: "'#' does not match a topic starting with '$'",
    steps: [
      ...login("b"),
      ...sub("b", "#"),
      ...login("a"),
      { send: "a", bytes: publish("$t/a", "x") },
      ...marker("a", "b", "t/a"),
    ],
  },
  {
    clause: "MQTT-4.7.2-1",
    title: "'+/a' does not match a topic starting with '$'",
    steps: [
      ...login("b"),
      { send: "b", bytes: subscribe(1, ["+/a", 0], ["t/a", 0]) },
      { expect: "b", hex: suback(1, 0, 0) },
      ...login("a"),
      { send: "a", bytes: publish("$t/a", "x") },
      ...marker("a", "b", "t/a"),
    ],
  },
  {
    clause: "§4.7.1.2",
    title: "'t/#' matches the parent level 't' too",
    steps: [...login("b"), ...sub("b", "t/#"), ...login("a"), ...marker("a", "b", "t")],
  },
  {
    clause: "§4.7.1.3",
    title: "'t/+' does not match 't/a/b'",
    steps: [
      ...login("b"),
      ...sub("b", "t/+"),
      ...login("a"),
      { send: "a", bytes: publish("t/a/b", "deep") },
      ...marker("a", "b", "t/a"),
    ],
  },
  {
    clause: "--max-filters-per-subscribe",
    title: "a SUBSCRIBE with 64 filters (the default limit) is answered",
    steps: [
      ...login("a"),
      {
        send: "a",
        bytes: subscribe(7, ...Array.from({ length: 64 }, (_, i): [string, number] => [`f/${i}`, 0])),
      },
      { expect: "a", hex: suback(7, ...Array.from({ length: 64 }, () => 0)) },
    ],
  },
  {
    clause: "--max-filters-per-subscribe",
    title: "a SUBSCRIBE with 5,000 filters closes",
    steps: closesAfterLogin(
      subscribe(7, ...Array.from({ length: 5000 }, (_, i): [string, number] => [`f/${i}`, 0])),
    ),
  },
  {
    clause: "--max-filters-per-subscribe",
    title: "with the limit set to 2, a SUBSCRIBE with 3 filters closes",
    broker: { maxFiltersPerSubscribe: 2 },
    steps: closesAfterLogin(subscribe(1, ["f/1", 0], ["f/2", 0], ["f/3", 0])),
  },
  {
    clause: "maxClientIdBytes",
    title: "with the limit set to 30, a 31-byte client id gets CONNACK 0x02, a 30-byte one 0x00",
    broker: { maxClientIdBytes: 30 },
    steps: [
      { open: "a" },
      { send: "a", bytes: connect({ id: "y".repeat(31) }) },
      { expect: "a", hex: "20 02 00 02" },
      { closed: "a" },
      ...login("b", { id: "y".repeat(30) }),
    ],
  },
  {
    clause: "denySubscribe",
    title: "a filter under --deny-subscribe gets SUBACK 0x80, the rest are granted",
    broker: { denySubscribe: ["test/nosubscribe"] },
    steps: [
      ...login("a"),
      { send: "a", bytes: subscribe(1, ["test/nosubscribe", 2], ["test/ok", 1]) },
      { expect: "a", hex: suback(1, 0x80, 1) },
      { alive: "a" },
    ],
  },

  // ---- §3.10 UNSUBSCRIBE, §3.11 UNSUBACK ----
  {
    clause: "MQTT-3.10.4-4",
    title: "UNSUBACK with the UNSUBSCRIBE's packet id, even when nothing matched (-5)",
    steps: [
      ...login("a"),
      { send: "a", bytes: unsubscribe(0x0102, "never/subscribed") },
      { expect: "a", hex: unsuback(0x0102) },
    ],
  },
  {
    clause: "MQTT-3.10.4-2",
    title: "after UNSUBACK no more messages arrive for that filter",
    steps: [
      ...login("b"),
      { send: "b", bytes: subscribe(1, ["t/a", 0], ["t/b", 0]) },
      { expect: "b", hex: suback(1, 0, 0) },
      { send: "b", bytes: unsubscribe(2, "t/a") },
      { expect: "b", hex: unsuback(2) },
      ...login("a"),
      { send: "a", bytes: publish("t/a", "gone") },
      ...marker("a", "b", "t/b"),
    ],
  },
  {
    clause: "MQTT-3.10.3-2",
    title: "UNSUBSCRIBE with no topic filter closes",
    steps: closesAfterLogin(frame(0xa2, u16(1))),
  },
  {
    clause: "MQTT-3.10.1-1",
    title: "UNSUBSCRIBE with fixed header flags 0000 closes",
    steps: closesAfterLogin(frame(0xa0, u16(1), str("a/b"))),
  },
  {
    clause: "MQTT-2.3.1-1",
    title: "UNSUBSCRIBE with packet id 0 closes",
    steps: closesAfterLogin(unsubscribe(0, "a/b")),
  },
  {
    clause: "MQTT-1.5.3-2",
    title: "UNSUBSCRIBE filter with U+0000 closes",
    steps: closesAfterLogin(unsubscribe(1, WITH_NUL)),
  },
  {
    clause: "MQTT-1.5.3-1",
    title: "UNSUBSCRIBE filter with invalid UTF-8 closes",
    steps: closesAfterLogin(unsubscribe(1, SURROGATE)),
  },
  {
    clause: "MQTT-4.7.1-2",
    title: "UNSUBSCRIBE from a/#/b closes",
    steps: closesAfterLogin(unsubscribe(1, "a/#/b")),
  },

  // ---- §3.12 PINGREQ, §3.14 DISCONNECT ----
  {
    clause: "MQTT-3.12.4-1",
    title: "PINGREQ is answered by PINGRESP",
    steps: [...login("a"), { send: "a", bytes: PINGREQ }, { expect: "a", hex: PINGRESP }],
  },
  {
    clause: "MQTT-3.14.4-1",
    title: "DISCONNECT: the broker closes the connection",
    steps: closesAfterLogin(DISCONNECT),
  },

  // ---- §2 fixed header ----
  { clause: "MQTT-2.2.2-2", title: "PINGREQ with flags 0001 closes", steps: closesAfterLogin(hex("c1 00")) },
  {
    clause: "MQTT-2.2.2-2",
    title: "DISCONNECT with flags 0010 closes",
    steps: closesAfterLogin(hex("e2 00")),
  },
  {
    clause: "MQTT-2.2.2-2",
    title: "PUBACK with flags 0010 closes",
    steps: closesAfterLogin(frame(0x42, u16(1))),
  },
  {
    clause: "MQTT-2.2.2-2",
    title: "CONNECT with flags 0001 closes",
    steps: refusedOnOpen(Buffer.concat([hex("11"), connect().subarray(1)])),
  },
  {
    clause: "MQTT-3.6.1-1",
    title: "PUBREL with flags 0000 closes",
    steps: closesAfterLogin(frame(0x60, u16(1))),
  },
  { clause: "MQTT-2.2.1", title: "reserved packet type 0 closes", steps: closesAfterLogin(hex("00 00")) },
  { clause: "MQTT-2.2.1", title: "reserved packet type 15 closes", steps: closesAfterLogin(hex("f0 00")) },
  {
    clause: "MQTT-2.2.1",
    title: "a CONNACK sent by a client closes",
    steps: closesAfterLogin(hex("20 02 00 00")),
  },
  {
    clause: "MQTT-2.2.3",
    title: "PUBACK with 3 bytes instead of 2 closes",
    steps: closesAfterLogin(frame(0x40, u16(1), hex("00"))),
  },
  { clause: "MQTT-2.2.3", title: "PINGREQ with a body closes", steps: closesAfterLogin(hex("c0 01 00")) },
];
