/**
 * Conformance rows: CONNECT and CONNACK (§3.1, §3.2) and the strings in CONNECT (§1.5.3).
 */
import {
  CONNACK_SESSION,
  connect,
  DISCONNECT,
  delivered,
  frame,
  hex,
  PINGREQ,
  puback,
  pubackHex,
  publish,
  str,
  suback,
  subscribe,
  u16,
} from "./bytes.js";
import type { Row } from "./runner.js";
import {
  ack,
  closesAfterLogin,
  INVALID_UTF8,
  login,
  marker,
  OVERLONG,
  refusedOnOpen,
  sub,
  WITH_NUL,
} from "./steps.js";

export const CONNECT_ROWS: readonly Row[] = [
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
    // Pings 750 ms apart keep it past 1.5 s: each comes well within the broker's 1.5 s of the last
    // packet, with 750 ms to spare for a busy host running the waits late.
    steps: [
      ...login("a", { keepalive: 1 }),
      { waitMs: 750 },
      { alive: "a" },
      { waitMs: 750 },
      { alive: "a" },
      { waitMs: 750 },
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
