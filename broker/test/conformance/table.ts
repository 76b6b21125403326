/**
 * The MQTT 3.1.1 conformance table of `twinfleet broker`: one row per rule a server MUST follow that
 * can be checked from the outside (§1.5.3, §2, §3, §4.7), each with the bytes sent and the exact
 * answer expected, or the close. Each row runs against its own fresh broker (runner.ts).
 */
import {
  CONNACK_OK,
  CONNACK_SESSION,
  type ConnectSpec,
  connect,
  DISCONNECT,
  delivered,
  frame,
  hex,
  PINGREQ,
  PINGRESP,
  PUBREL_ANY,
  packetIdOf,
  puback,
  pubackHex,
  pubcomp,
  pubcompHex,
  publish,
  pubrec,
  pubrecHex,
  pubrel,
  str,
  suback,
  subscribe,
  u16,
  unsuback,
  unsubscribe,
} from "./bytes.js";
import type { Conn, Row, Step } from "./runner.js";

// ---- step shorthands ----

/** Open `c` and connect it (client id "id-<c>" unless given); CONNACK 0 expected. */
const login = (c: Conn, spec: ConnectSpec = {}, connack = CONNACK_OK): Step[] => [
  { open: c },
  { send: c, bytes: connect({ id: `id-${c}`, ...spec }) },
  { expect: c, hex: connack },
];
const sub = (c: Conn, filter: string, qos = 0, id = 1): Step[] => [
  { send: c, bytes: subscribe(id, [filter, qos]) },
  { expect: c, hex: suback(id, qos) },
];
/** Sends `bytes` on a fresh connection (no CONNECT first); the broker answers `answer`, then closes. */
const refusedOnOpen = (bytes: Buffer, answer?: string): Step[] => [
  { open: "a" },
  { send: "a", bytes },
  ...(answer ? [{ expect: "a", hex: answer }] : []),
  { closed: "a" },
];
/** Sends `bytes` after a successful CONNECT; the broker closes without answering. */
const closesAfterLogin = (bytes: Buffer): Step[] => [...login("a"), { send: "a", bytes }, { closed: "a" }];
/** `pub` publishes a marker to `topic`; `subscriber` must receive it next (so nothing came before it). */
const marker = (pub: Conn, subscriber: Conn, topic: string): Step[] => [
  { send: pub, bytes: publish(topic, "marker") },
  { expect: subscriber, hex: delivered(topic, "marker") },
];
const ack = (c: Conn, make: (id: number) => Buffer): Step => ({
  send: c,
  bytes: (last) => make(packetIdOf(last)),
});

const INVALID_UTF8 = hex("61 2f ff"); // "a/" then a byte that starts no UTF-8 sequence
const SURROGATE = hex("61 ed a0 80"); // U+D800 encoded (CESU): ill-formed in UTF-8
const OVERLONG = hex("61 c0 af"); // "/" as an overlong two-byte sequence
const WITH_NUL = hex("61 00 62");

export const TABLE: readonly Row[] = [
  // ---- §3.1 CONNECT ----
  {
    clause: "MQTT-3.1.0-1",
    title: "a first packet other than CONNECT (PINGREQ) closes",
    steps: refusedOnOpen(PINGREQ),
  },
  {
    clause: "MQTT-3.1.0-1",
    title: "a first packet other than CONNECT (PUBLISH) closes",
    steps: refusedOnOpen(publish("a/b", "x")),
  },
  {
    clause: "MQTT-3.1.0-2",
    title: "a second CONNECT closes",
    steps: closesAfterLogin(connect({ id: "id-a" })),
  },
  {
    clause: "MQTT-3.1.2-1",
    title: 'an unknown protocol name ("MQTX") closes without CONNACK',
    steps: refusedOnOpen(connect({ protocol: "MQTX" })),
  },
  {
    clause: "MQTT-3.1.2-2",
    title: "protocol level 9 gets CONNACK 0x01, then close",
    steps: refusedOnOpen(connect({ level: 9 }), "20 02 00 01"),
  },
  {
    clause: "MQTT-3.1.2-2",
    title: 'protocol name "MQTT" with level 3 gets CONNACK 0x01, then close',
    steps: refusedOnOpen(connect({ level: 3 }), "20 02 00 01"),
  },
  {
    clause: "MQTT-3.1.2-2",
    title: "protocol level 5 (MQTT 5) gets CONNACK 0x01, then close",
    steps: refusedOnOpen(connect({ level: 5 }), "20 02 00 01"),
  },
  {
    clause: "MQTT-3.1.2-2",
    title: 'protocol "MQIsdp" level 3 (MQTT 3.1, which aedes speaks) is served',
    steps: [...login("a", { protocol: "MQIsdp", level: 3 }), { alive: "a" }],
  },
  {
    clause: "MQTT-3.1.2-2",
    title: 'protocol "MQIsdp" with level 4 gets CONNACK 0x01, then close',
    steps: refusedOnOpen(connect({ protocol: "MQIsdp", level: 4 }), "20 02 00 01"),
  },
  {
    clause: "MQTT-3.1.2-3",
    title: "the reserved connect flag set closes",
    steps: refusedOnOpen(connect({ flags: 0x03 })),
  },
  {
    clause: "MQTT-3.1.2-13",
    title: "will QoS 1 without the will flag closes",
    steps: refusedOnOpen(connect({ flags: 0x02 | 0x08 })),
  },
  {
    clause: "MQTT-3.1.2-14",
    title: "will QoS 3 closes",
    steps: refusedOnOpen(connect({ will: { topic: "w/a", qos: 3 } })),
  },
  {
    clause: "MQTT-3.1.2-15",
    title: "will retain without the will flag closes",
    steps: refusedOnOpen(connect({ flags: 0x02 | 0x20 })),
  },
  {
    clause: "MQTT-3.1.2-9",
    title: "will flag set but no will topic and message closes",
    steps: refusedOnOpen(frame(0x10, str("MQTT"), Buffer.from([4, 0x06]), u16(60), str("id-a"))),
  },
  {
    clause: "MQTT-3.1.2-19",
    title: "user name flag set but no user name closes",
    steps: refusedOnOpen(frame(0x10, str("MQTT"), Buffer.from([4, 0x82]), u16(60), str("id-a"))),
  },
  {
    clause: "MQTT-3.1.2-22",
    title: "password flag without the user name flag closes",
    steps: refusedOnOpen(frame(0x10, str("MQTT"), Buffer.from([4, 0x42]), u16(60), str("id-a"), str("pw"))),
  },
  {
    clause: "MQTT-3.1.4-1",
    title: "a CONNECT with bytes past its last field closes without CONNACK",
    steps: refusedOnOpen(connect({ trailing: hex("00") })),
  },
  {
    clause: "MQTT-3.1.4-1",
    title: "a CONNECT whose client id runs past the packet closes",
    steps: refusedOnOpen(
      frame(0x10, str("MQTT"), Buffer.from([4, 0x02]), u16(60), u16(20), Buffer.from("id")),
    ),
  },
  {
    clause: "MQTT-3.1.2-8",
    title: "a dropped connection publishes its will",
    steps: [
      ...login("b"),
      ...sub("b", "w/a"),
      ...login("a", { will: { topic: "w/a", message: "gone" } }),
      { drop: "a" },
      { expect: "b", hex: delivered("w/a", "gone") },
    ],
  },
  {
    clause: "MQTT-3.1.2-8",
    title: "a connection closed for a protocol error publishes its will",
    steps: [
      ...login("b"),
      ...sub("b", "w/a"),
      ...login("a", { will: { topic: "w/a", message: "gone" } }),
      { send: "a", bytes: publish("a/+", "x") },
      { closed: "a" },
      { expect: "b", hex: delivered("w/a", "gone") },
    ],
  },
  {
    clause: "MQTT-3.1.2-17",
    title: "a will with retain set is kept as the retained message",
    steps: [
      ...login("a", { will: { topic: "w/a", message: "gone", retain: true } }),
      { drop: "a" },
      ...login("b"),
      { send: "b", bytes: subscribe(1, ["w/a", 0]) },
      { expect: "b", hex: suback(1, 0) },
      { expect: "b", hex: delivered("w/a", "gone", { retain: true }) },
    ],
  },
  {
    clause: "MQTT-3.14.4-3",
    title: "DISCONNECT discards the will",
    steps: [
      ...login("b"),
      ...sub("b", "w/a"),
      ...login("a", { will: { topic: "w/a", message: "gone" } }),
      { send: "a", bytes: DISCONNECT },
      { closed: "a" },
      ...marker("b", "b", "w/a"),
    ],
  },
  {
    clause: "MQTT-3.1.2-24",
    title: "keepalive 1 s: closed after 1.5 s of silence, not before",
    steps: [...login("a", { keepalive: 1 }), { closed: "a", withinMs: [1200, 2500] }],
  },
  {
    clause: "MQTT-3.1.2-24",
    title: "keepalive 1 s: a PINGREQ within 1.5 s keeps the connection",
    steps: [
      ...login("a", { keepalive: 1 }),
      { waitMs: 1000 },
      { alive: "a" },
      { waitMs: 1000 },
      { alive: "a" },
    ],
  },
  {
    clause: "MQTT-3.1.3-8",
    title: "an empty client id with clean session 0 gets CONNACK 0x02, then close",
    steps: refusedOnOpen(connect({ id: "", clean: false }), "20 02 00 02"),
  },
  {
    clause: "MQTT-3.1.3-6",
    title: "an empty client id with clean session 1 is accepted",
    steps: [...login("a", { id: "" }), { alive: "a" }],
  },
  {
    clause: "MQTT-3.1.3-5",
    title: "a 23-byte alphanumeric client id is accepted",
    steps: [...login("a", { id: "abcdefghijklmnopqrstuvw" }), { alive: "a" }],
  },
  {
    clause: "MQTT-3.1.3-5",
    title: "a client id of maxClientIdBytes (256) is accepted",
    steps: [...login("a", { id: "x".repeat(256) }), { alive: "a" }],
  },
  {
    clause: "MQTT-3.1.3-5",
    title: "a client id one byte over maxClientIdBytes gets CONNACK 0x02",
    steps: refusedOnOpen(connect({ id: "x".repeat(257) }), "20 02 00 02"),
  },
  {
    clause: "MQTT-3.1.3-5",
    title: "a 60,000-byte client id gets CONNACK 0x02",
    steps: refusedOnOpen(connect({ id: "x".repeat(60_000) }), "20 02 00 02"),
  },
  {
    clause: "MQTT-3.1.4-2",
    title: "a second connection with the same client id closes the first",
    steps: [...login("a", { id: "same" }), ...login("b", { id: "same" }), { closed: "a" }, { alive: "b" }],
  },
  {
    clause: "MQTT-3.1.4-5",
    title: "after a refused CONNECT nothing more is processed",
    steps: [
      ...login("b"),
      ...sub("b", "t/a"),
      { open: "a" },
      { send: "a", bytes: Buffer.concat([connect({ level: 9 }), publish("t/a", "sneaked")]) },
      { expect: "a", hex: "20 02 00 01" },
      { closed: "a" },
      ...marker("b", "b", "t/a"),
    ],
  },

  // ---- §3.2 CONNACK and sessions ----
  {
    clause: "MQTT-3.2.2-1",
    title: "clean session 1 gets session present 0",
    steps: [...login("a", { clean: true })],
  },
  {
    clause: "MQTT-3.2.2-3",
    title: "clean session 0 with no stored session gets session present 0",
    steps: [...login("a", { clean: false })],
  },
  {
    clause: "MQTT-3.2.2-2",
    title: "clean session 0 with a stored session gets session present 1",
    steps: [
      ...login("a", { id: "s", clean: false }),
      ...sub("a", "t/a", 1),
      { send: "a", bytes: DISCONNECT },
      { closed: "a" },
      ...login("a2", { id: "s", clean: false }, CONNACK_SESSION),
    ],
  },
  {
    clause: "MQTT-3.1.2-6",
    title: "clean session 1 discards the stored session",
    steps: [
      ...login("a", { id: "s", clean: false }),
      ...sub("a", "t/a", 1),
      { send: "a", bytes: DISCONNECT },
      { closed: "a" },
      ...login("a2", { id: "s", clean: true }),
      { send: "a2", bytes: DISCONNECT },
      { closed: "a2" },
      ...login("a3", { id: "s", clean: false }),
    ],
  },
  {
    clause: "MQTT-3.1.2-5",
    title: "QoS 1 messages for a disconnected session are delivered when it comes back",
    steps: [
      ...login("a", { id: "s", clean: false }),
      ...sub("a", "t/a", 1),
      { send: "a", bytes: DISCONNECT },
      { closed: "a" },
      ...login("b"),
      { send: "b", bytes: publish("t/a", "queued", { qos: 1, id: 5 }) },
      { expect: "b", hex: pubackHex(5) },
      ...login("a2", { id: "s", clean: false }, CONNACK_SESSION),
      { expect: "a2", hex: delivered("t/a", "queued", { qos: 1 }) },
      ack("a2", puback),
      { alive: "a2" },
    ],
  },
  {
    clause: "MQTT-4.4.0-1",
    title: "an unacknowledged QoS 1 delivery is sent again, DUP set, on reconnect",
    steps: [
      ...login("a", { id: "s", clean: false }),
      ...sub("a", "t/a", 1),
      ...login("b"),
      { send: "b", bytes: publish("t/a", "again", { qos: 1, id: 5 }) },
      { expect: "b", hex: pubackHex(5) },
      { expect: "a", hex: delivered("t/a", "again", { qos: 1 }) },
      { drop: "a" },
      ...login("a2", { id: "s", clean: false }, CONNACK_SESSION),
      { expect: "a2", hex: delivered("t/a", "again", { qos: 1, dup: true }) },
    ],
  },

  // ---- §3.3 PUBLISH, §3.4-3.7 its acknowledgements ----
  {
    clause: "MQTT-3.3.1-4",
    title: "PUBLISH with QoS 3 closes",
    steps: closesAfterLogin(frame(0x36, str("a/b"), u16(1), Buffer.from("x"))),
  },
  {
    clause: "MQTT-3.3.2-2",
    title: "PUBLISH to a topic with '+' closes",
    steps: closesAfterLogin(publish("a/+", "x")),
  },
  {
    clause: "MQTT-3.3.2-2",
    title: "PUBLISH to a topic with '#' closes",
    steps: closesAfterLogin(publish("a/#", "x")),
  },
  {
    clause: "MQTT-4.7.3-1",
    title: "PUBLISH to an empty topic closes",
    steps: closesAfterLogin(publish("", "x")),
  },
  {
    clause: "MQTT-2.3.1-1",
    title: "PUBLISH QoS 1 with packet id 0 closes",
    steps: closesAfterLogin(publish("a/b", "x", { qos: 1, id: 0 })),
  },
  {
    clause: "MQTT-2.3.1-1",
    title: "PUBLISH QoS 2 with packet id 0 closes",
    steps: closesAfterLogin(publish("a/b", "x", { qos: 2, id: 0 })),
  },
  {
    clause: "MQTT-1.5.3-1",
    title: "PUBLISH topic with invalid UTF-8 closes (not forwarded as U+FFFD)",
    steps: closesAfterLogin(publish(INVALID_UTF8, "x")),
  },
  {
    clause: "MQTT-1.5.3-1",
    title: "PUBLISH topic with an encoded surrogate (U+D800) closes",
    steps: closesAfterLogin(publish(SURROGATE, "x")),
  },
  {
    clause: "MQTT-1.5.3-1",
    title: "PUBLISH topic with an overlong encoding closes",
    steps: closesAfterLogin(publish(OVERLONG, "x")),
  },
  {
    clause: "MQTT-1.5.3-2",
    title: "PUBLISH topic with U+0000 closes",
    steps: closesAfterLogin(publish(WITH_NUL, "x")),
  },
  {
    clause: "MQTT-1.5.3-3",
    title: "a topic starting with U+FEFF is delivered with it, not stripped",
    steps: [...login("a"), ...sub("a", "\uFEFFbom"), ...marker("a", "a", "\uFEFFbom")],
  },
  {
    clause: "MQTT-3.3.4-1",
    title: "PUBLISH QoS 1 is answered by PUBACK with its packet id",
    steps: [
      ...login("a"),
      { send: "a", bytes: publish("a/b", "x", { qos: 1, id: 0x1234 }) },
      { expect: "a", hex: pubackHex(0x1234) },
    ],
  },
  {
    clause: "MQTT-3.6.4-1",
    title: "PUBLISH QoS 2: PUBREC, then PUBCOMP for the PUBREL, same packet id",
    steps: [
      ...login("a"),
      { send: "a", bytes: publish("a/b", "x", { qos: 2, id: 9 }) },
      { expect: "a", hex: pubrecHex(9) },
      { send: "a", bytes: pubrel(9) },
      { expect: "a", hex: pubcompHex(9) },
    ],
  },
  {
    clause: "MQTT-4.3.3-2",
    title: "a QoS 2 PUBLISH sent again before PUBREL is delivered once",
    steps: [
      ...login("b"),
      ...sub("b", "t/a", 0),
      ...login("a"),
      { send: "a", bytes: publish("t/a", "once", { qos: 2, id: 9 }) },
      { expect: "a", hex: pubrecHex(9) },
      { send: "a", bytes: publish("t/a", "once", { qos: 2, id: 9, dup: true }) },
      { expect: "a", hex: pubrecHex(9) },
      { send: "a", bytes: pubrel(9) },
      { expect: "a", hex: pubcompHex(9) },
      { expect: "b", hex: delivered("t/a", "once") },
      ...marker("a", "b", "t/a"),
    ],
  },
  {
    clause: "MQTT-3.3.2-3",
    title: "a subscriber gets the publisher's topic name and payload, QoS 1 flow",
    steps: [
      ...login("b"),
      ...sub("b", "t/+", 1),
      ...login("a"),
      { send: "a", bytes: publish("t/a", "hello", { qos: 1, id: 3 }) },
      { expect: "a", hex: pubackHex(3) },
      { expect: "b", hex: delivered("t/a", "hello", { qos: 1 }) },
      ack("b", puback),
      { alive: "b" },
    ],
  },
  {
    clause: "MQTT-4.3.3-1",
    title: "delivery at QoS 2: PUBLISH, PUBREC, PUBREL from the broker, PUBCOMP",
    steps: [
      ...login("b"),
      ...sub("b", "t/a", 2),
      ...login("a"),
      { send: "a", bytes: publish("t/a", "two", { qos: 2, id: 3 }) },
      { expect: "a", hex: pubrecHex(3) },
      { send: "a", bytes: pubrel(3) },
      { expect: "a", hex: pubcompHex(3) },
      { expect: "b", hex: delivered("t/a", "two", { qos: 2 }) },
      ack("b", pubrec),
      { expect: "b", hex: PUBREL_ANY },
      ack("b", pubcomp),
      { alive: "b" },
    ],
  },
  {
    clause: "MQTT-3.3.1-9",
    title: "a live delivery has RETAIN 0 even when published retained",
    steps: [
      ...login("b"),
      ...sub("b", "t/a"),
      ...login("a"),
      { send: "a", bytes: publish("t/a", "live", { retain: true }) },
      { expect: "b", hex: delivered("t/a", "live") },
    ],
  },
  {
    clause: "MQTT-4.6.0-6",
    title: "messages on one topic are delivered in the order published",
    steps: [
      ...login("b"),
      ...sub("b", "t/a", 1),
      ...login("a"),
      { send: "a", bytes: Buffer.concat([1, 2, 3].map((n) => publish("t/a", `m${n}`, { qos: 1, id: n }))) },
      { expect: "b", hex: delivered("t/a", "m1", { qos: 1 }) },
      { expect: "b", hex: delivered("t/a", "m2", { qos: 1 }) },
      { expect: "b", hex: delivered("t/a", "m3", { qos: 1 }) },
    ],
  },

  // ---- retained messages ----
  {
    clause: "MQTT-3.3.1-6",
    title: "a new subscription gets the retained message, RETAIN 1 (MQTT-3.3.1-8)",
    steps: [
      ...login("a"),
      { send: "a", bytes: publish("r/a", "kept", { retain: true }) },
      ...login("b"),
      { send: "b", bytes: subscribe(1, ["r/#", 0]) },
      { expect: "b", hex: suback(1, 0) },
      { expect: "b", hex: delivered("r/a", "kept", { retain: true }) },
    ],
  },
  {
    clause: "MQTT-3.3.1-5",
    title: "the retained message keeps its QoS (1)",
    steps: [
      ...login("a"),
      { send: "a", bytes: publish("r/a", "kept", { retain: true, qos: 1, id: 2 }) },
      { expect: "a", hex: pubackHex(2) },
      ...login("b"),
      { send: "b", bytes: subscribe(1, ["r/a", 1]) },
      { expect: "b", hex: suback(1, 1) },
      { expect: "b", hex: delivered("r/a", "kept", { retain: true, qos: 1 }) },
    ],
  },
  {
    clause: "MQTT-3.3.1-7",
    title: "a new retained message replaces the old one",
    steps: [
      ...login("a"),
      { send: "a", bytes: publish("r/a", "one", { retain: true }) },
      { send: "a", bytes: publish("r/a", "two", { retain: true }) },
      { send: "a", bytes: publish("r/b", "end", { retain: true }) },
      ...login("b"),
      { send: "b", bytes: subscribe(1, ["r/a", 0], ["r/b", 0]) },
      { expect: "b", hex: suback(1, 0, 0) },
      { expect: "b", hex: delivered("r/a", "two", { retain: true }) },
      { expect: "b", hex: delivered("r/b", "end", { retain: true }) },
    ],
  },
  {
    clause: "MQTT-3.3.1-10",
    title: "an empty retained payload removes the retained message (and is not stored, -11)",
    steps: [
      ...login("a"),
      { send: "a", bytes: publish("r/a", "old", { retain: true }) },
      { send: "a", bytes: publish("r/a", "", { retain: true }) },
      { send: "a", bytes: publish("r/b", "end", { retain: true }) },
      ...login("b"),
      { send: "b", bytes: subscribe(1, ["r/a", 0], ["r/b", 0]) },
      { expect: "b", hex: suback(1, 0, 0) },
      { expect: "b", hex: delivered("r/b", "end", { retain: true }) },
    ],
  },
  {
    clause: "MQTT-3.3.1-12",
    title: "a PUBLISH without RETAIN neither stores nor replaces the retained message",
    steps: [
      ...login("a"),
      { send: "a", bytes: publish("r/a", "kept", { retain: true }) },
      { send: "a", bytes: publish("r/a", "passing") },
      { send: "a", bytes: publish("r/b", "end", { retain: true }) },
      ...login("b"),
      { send: "b", bytes: subscribe(1, ["r/a", 0], ["r/b", 0]) },
      { expect: "b", hex: suback(1, 0, 0) },
      { expect: "b", hex: delivered("r/a", "kept", { retain: true }) },
      { expect: "b", hex: delivered("r/b", "end", { retain: true }) },
    ],
  },

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
    clause: "maxFiltersPerSubscribe",
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
    clause: "maxFiltersPerSubscribe",
    title: "a SUBSCRIBE with 5,000 filters closes",
    steps: closesAfterLogin(
      subscribe(7, ...Array.from({ length: 5000 }, (_, i): [string, number] => [`f/${i}`, 0])),
    ),
  },
  {
    clause: "maxFiltersPerSubscribe",
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

  // ---- §1.5.3 strings in CONNECT ----
  {
    clause: "MQTT-1.5.3-1",
    title: "a client id with invalid UTF-8 closes",
    steps: refusedOnOpen(connect({ id: INVALID_UTF8 })),
  },
  {
    clause: "MQTT-1.5.3-2",
    title: "a client id with U+0000 closes",
    steps: refusedOnOpen(connect({ id: WITH_NUL })),
  },
  {
    clause: "MQTT-1.5.3-1",
    title: "a will topic with invalid UTF-8 closes",
    steps: refusedOnOpen(connect({ will: { topic: OVERLONG } })),
  },
  {
    clause: "MQTT-1.5.3-2",
    title: "a will topic with U+0000 closes",
    steps: refusedOnOpen(connect({ will: { topic: WITH_NUL } })),
  },
  {
    clause: "MQTT-4.7.1-1",
    title: "a will topic with a wildcard closes",
    steps: refusedOnOpen(connect({ will: { topic: "w/#" } })),
  },
  {
    clause: "MQTT-1.5.3-1",
    title: "a user name with invalid UTF-8 closes",
    steps: refusedOnOpen(connect({ username: INVALID_UTF8 })),
  },
  {
    clause: "MQTT-1.5.3-2",
    title: "a user name with U+0000 closes",
    steps: refusedOnOpen(connect({ username: WITH_NUL })),
  },
];
