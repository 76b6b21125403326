/**
 * MQTT 3.1.1 packets for the fuzz soak, as bytes, from a seeded random source: valid packets of
 * every type (built with mqtt-packet's generate, client-to-server and server-only ones alike), and
 * mutations of them — bit flips, wrong remaining lengths, reserved flags and types, invalid UTF-8 in
 * topics and client ids, huge declared lengths, truncation, random bytes. Pure: the same random
 * source gives the same bytes, so a seed reproduces a stream exactly.
 *
 * Topics and client ids come from small fixed sets, so what a broker legitimately keeps for them
 * (retained messages, persistent sessions) stays bounded however long the soak runs.
 */

import mqttPacket from "mqtt-packet";
import { assertNever } from "../../../protocol/index.js";

/** A seeded source of numbers in [0, 1), e.g. seedrandom's PRNG. */
export type Rng = () => number;

export const int = (rng: Rng, lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1));
export const chance = (rng: Rng, p: number): boolean => rng() < p;
export function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)] as T;
}

/** Topic prefix of every fuzz publish and subscription (mutations aside). */
export const FUZZ_TOPIC_ROOT = "fz";
/** Client ids of fuzz connections: `fz-0` … `fz-63`; a healthy client must use another prefix. */
export const FUZZ_CLIENT_IDS = 64;

export function fuzzClientId(rng: Rng): string {
  return `fz-${int(rng, 0, FUZZ_CLIENT_IDS - 1)}`;
}

function topic(rng: Rng): string {
  return `${FUZZ_TOPIC_ROOT}/${int(rng, 0, 15)}/${pick(rng, ["a", "b", "state", "cfg"])}`;
}

function filter(rng: Rng): string {
  return pick(rng, [
    topic(rng),
    `${FUZZ_TOPIC_ROOT}/#`,
    `${FUZZ_TOPIC_ROOT}/+/a`,
    `${FUZZ_TOPIC_ROOT}/${int(rng, 0, 15)}/+`,
    "#",
    "+/+/+",
    "$SYS/#",
  ]);
}

function payload(rng: Rng): Buffer {
  const size = chance(rng, 0.9) ? int(rng, 0, 64) : int(rng, 65, 4096);
  return randomBytes(rng, size);
}

export function randomBytes(rng: Rng, size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = Math.floor(rng() * 256);
  return b;
}

const messageId = (rng: Rng) => int(rng, 1, 65535);

export function connectPacket(rng: Rng, clientId = fuzzClientId(rng)): Buffer {
  const withWill = chance(rng, 0.2);
  const withLogin = chance(rng, 0.2);
  return mqttPacket.generate({
    cmd: "connect",
    protocolId: "MQTT",
    protocolVersion: 4,
    clientId,
    // Persistent sessions only now and then: each keeps what is queued for it while it is away.
    clean: chance(rng, 0.9),
    keepalive: pick(rng, [0, 1, 5, 60, 65535]),
    ...(withWill
      ? {
          will: {
            topic: topic(rng),
            payload: payload(rng),
            qos: pick(rng, [0, 1, 2] as const),
            retain: chance(rng, 0.3),
          },
        }
      : {}),
    ...(withLogin ? { username: `u${int(rng, 0, 9)}`, password: randomBytes(rng, int(rng, 0, 16)) } : {}),
  });
}

export function publishPacket(rng: Rng): Buffer {
  const qos = pick(rng, [0, 0, 1, 2] as const);
  return mqttPacket.generate({
    cmd: "publish",
    topic: topic(rng),
    payload: payload(rng),
    qos,
    dup: chance(rng, 0.1),
    retain: chance(rng, 0.1),
    ...(qos > 0 ? { messageId: messageId(rng) } : {}),
  });
}

/** The valid packets a client sends after CONNECT, weighted roughly as a busy client would. */
const AFTER_CONNECT: readonly ((rng: Rng) => Buffer)[] = [
  publishPacket,
  publishPacket,
  publishPacket,
  (rng) =>
    mqttPacket.generate({
      cmd: "subscribe",
      messageId: messageId(rng),
      subscriptions: Array.from({ length: int(rng, 1, 4) }, () => ({
        topic: filter(rng),
        qos: pick(rng, [0, 1, 2] as const),
      })),
    }),
  (rng) =>
    mqttPacket.generate({
      cmd: "unsubscribe",
      messageId: messageId(rng),
      unsubscriptions: Array.from({ length: int(rng, 1, 3) }, () => filter(rng)),
    }),
  (rng) =>
    mqttPacket.generate({ cmd: pick(rng, ["puback", "pubrec", "pubcomp"]), messageId: messageId(rng) }),
  (rng) => mqttPacket.generate({ cmd: "pubrel", messageId: messageId(rng) }),
  () => mqttPacket.generate({ cmd: "pingreq" }),
];

/** Packets only a server sends, or a second CONNECT: valid bytes, wrong direction or wrong time. */
const OUT_OF_PLACE: readonly ((rng: Rng) => Buffer)[] = [
  (rng) =>
    mqttPacket.generate({ cmd: "connack", returnCode: int(rng, 0, 5), sessionPresent: chance(rng, 0.5) }),
  (rng) => mqttPacket.generate({ cmd: "suback", messageId: messageId(rng), granted: [0, 1, 128] }),
  (rng) => mqttPacket.generate({ cmd: "unsuback", messageId: messageId(rng), granted: [] }),
  () => mqttPacket.generate({ cmd: "pingresp" }),
  (rng) => connectPacket(rng),
  // MQTT 5 CONNECT: a protocol level this broker does not speak.
  (rng) =>
    mqttPacket.generate({
      cmd: "connect",
      protocolId: "MQTT",
      protocolVersion: 5,
      clientId: fuzzClientId(rng),
      clean: true,
      keepalive: 30,
      properties: { sessionExpiryInterval: int(rng, 0, 100) },
    }),
];

/**
 * Well-formed frames with contents MQTT 3.1.1 forbids or a broker may not expect: wildcards in a
 * PUBLISH topic or a will topic, an empty topic, packet id 0, a misplaced `#`, topics thousands of
 * levels deep, hundreds of filters in one SUBSCRIBE, a client id of up to 60,000 bytes, empty
 * SUBSCRIBE and UNSUBSCRIBE lists (mqtt-packet will not generate those, so they are written out),
 * MQTT 3.1 and an empty client id with a persistent session.
 */
const ODD: readonly ((rng: Rng) => Buffer)[] = [
  (rng) =>
    mqttPacket.generate({
      cmd: "publish",
      topic: pick(rng, ["", `${FUZZ_TOPIC_ROOT}/#`, `${FUZZ_TOPIC_ROOT}/+/a`, "#", "$SYS/fz"]),
      payload: payload(rng),
      qos: pick(rng, [0, 1, 2] as const),
      dup: false,
      retain: chance(rng, 0.5),
      messageId: pick(rng, [0, messageId(rng)]),
    }),
  (rng) =>
    mqttPacket.generate({
      cmd: "subscribe",
      messageId: pick(rng, [0, messageId(rng)]),
      subscriptions: [{ topic: pick(rng, ["fz/#/x", "", "fz/+x", "fz/a#", "+#", "//", "fz\u0000"]), qos: 1 }],
    }),
  // Deep topics (past aedes's 100-level limit) and wide packets: many filters, a long client id.
  (rng) =>
    mqttPacket.generate({
      cmd: "publish",
      topic: `${FUZZ_TOPIC_ROOT}/${"a/".repeat(int(rng, 90, 2000))}x`,
      payload: Buffer.alloc(0),
      qos: 0,
      dup: false,
      retain: chance(rng, 0.5),
    }),
  (rng) =>
    mqttPacket.generate({
      cmd: "subscribe",
      messageId: messageId(rng),
      subscriptions: [
        { topic: `${"+/".repeat(int(rng, 90, 2000))}#`, qos: 0 },
        ...Array.from({ length: int(rng, 0, 500) }, (_, i) => ({
          topic: `${FUZZ_TOPIC_ROOT}/${i}/${pick(rng, ["a", "+", "#"])}`,
          qos: pick(rng, [0, 1, 2] as const),
        })),
      ],
    }),
  (rng) =>
    mqttPacket.generate({
      cmd: "connect",
      protocolId: "MQTT",
      protocolVersion: 4,
      clientId: `fz-${"x".repeat(int(rng, 100, 60_000))}`,
      clean: true,
      keepalive: 10,
    }),
  // SUBSCRIBE and UNSUBSCRIBE with a packet id and nothing else.
  () => Buffer.from([0x82, 0x02, 0x00, 0x01]),
  () => Buffer.from([0xa2, 0x02, 0x00, 0x01]),
  (rng) => mqttPacket.generate({ cmd: pick(rng, ["puback", "pubrec", "pubrel", "pubcomp"]), messageId: 0 }),
  (rng) =>
    mqttPacket.generate({
      cmd: "connect",
      protocolId: "MQIsdp",
      protocolVersion: 3,
      clientId: fuzzClientId(rng),
      clean: true,
      keepalive: 10,
    }),
  // CONNECT, MQTT 3.1.1, empty client id, clean session 0 (MQTT-3.1.3-8 wants it refused).
  () => Buffer.from([0x10, 0x0c, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x00, 0x00, 0x3c, 0x00, 0x00]),
  (rng) =>
    mqttPacket.generate({
      cmd: "connect",
      protocolId: "MQTT",
      protocolVersion: 4,
      clientId: fuzzClientId(rng),
      clean: true,
      keepalive: 10,
      will: { topic: pick(rng, ["fz/#", "fz/+/a", "#"]), payload: payload(rng), qos: 1, retain: true },
    }),
];

export function oddPacket(rng: Rng): Buffer {
  return pick(rng, ODD)(rng);
}

export function validPacket(rng: Rng): Buffer {
  return pick(rng, AFTER_CONNECT)(rng);
}

export function outOfPlacePacket(rng: Rng): Buffer {
  return pick(rng, OUT_OF_PLACE)(rng);
}

/** Where the remaining length ends and the variable header starts (1 + length bytes). */
export function headerLength(packet: Uint8Array): number {
  let i = 1;
  while (i < packet.length && i < 5 && (packet[i]! & 0x80) !== 0) i++;
  return i + 1;
}

/** The remaining-length encoding of `n` (MQTT §2.2.3); n up to 268,435,455. */
export function encodeLength(n: number): Buffer {
  const out: number[] = [];
  let x = n;
  do {
    let b = x % 128;
    x = Math.floor(x / 128);
    if (x > 0) b |= 0x80;
    out.push(b);
  } while (x > 0);
  return Buffer.from(out);
}

/** Byte sequences that are not UTF-8, or are UTF-8 MQTT forbids in strings (U+0000, surrogates). */
const BAD_UTF8: readonly number[][] = [
  [0xff],
  [0xc3, 0x28],
  [0xed, 0xa0, 0x80],
  [0x00],
  [0xc0, 0x80],
  [0xf8],
];

export type Mutation =
  | "bit-flip"
  | "flags"
  | "type"
  | "length"
  | "huge-length"
  | "bad-length-field"
  | "bad-utf8"
  | "truncate"
  | "append-junk"
  | "random";

export const MUTATIONS: readonly Mutation[] = [
  "bit-flip",
  "flags",
  "type",
  "length",
  "huge-length",
  "bad-length-field",
  "bad-utf8",
  "truncate",
  "append-junk",
  "random",
];

/** One mutation of a valid packet; the input is not changed. */
export function mutate(rng: Rng, packet: Buffer, how: Mutation = pick(rng, MUTATIONS)): Buffer {
  const out = Buffer.from(packet);
  const head = headerLength(out);
  switch (how) {
    case "bit-flip": {
      for (let n = int(rng, 1, 4); n > 0; n--) {
        const i = int(rng, 0, out.length - 1);
        out[i] = out[i]! ^ (1 << int(rng, 0, 7));
      }
      return out;
    }
    case "flags":
      // Low nibble of the fixed header: reserved bits, QoS 3, DUP on QoS 0 …
      out[0] = (out[0]! & 0xf0) | int(rng, 0, 15);
      return out;
    case "type":
      // 0 and 15 are reserved; the others put a valid body under the wrong type.
      out[0] = (int(rng, 0, 15) << 4) | (out[0]! & 0x0f);
      return out;
    case "length": {
      const body = out.subarray(head);
      const declared = Math.max(0, body.length + pick(rng, [-3, -2, -1, 1, 2, 7, 100, 4000]));
      return Buffer.concat([out.subarray(0, 1), encodeLength(declared), body]);
    }
    case "huge-length":
      // Announces far more than will ever come (up to MQTT's 256 MB maximum).
      return Buffer.concat([
        out.subarray(0, 1),
        encodeLength(pick(rng, [70_000, 1_000_000, 268_435_455])),
        out.subarray(head),
      ]);
    case "bad-length-field":
      // Five continuation bytes: a remaining length MQTT does not allow.
      return Buffer.concat([
        out.subarray(0, 1),
        Buffer.from([0xff, 0xff, 0xff, 0xff, 0x7f]),
        out.subarray(head),
      ]);
    case "bad-utf8":
      return badUtf8(rng, out, head);
    case "truncate":
      return out.subarray(0, int(rng, 1, Math.max(1, out.length - 1)));
    case "append-junk":
      return Buffer.concat([out, randomBytes(rng, int(rng, 1, 32))]);
    case "random":
      return randomBytes(rng, int(rng, 1, 256));
    default:
      return assertNever(how);
  }
}

/**
 * Overwrites bytes inside the first string of the packet (a PUBLISH topic, a SUBSCRIBE filter, a
 * CONNECT's client id) with a bad sequence of the same length, so the lengths stay right and only
 * the encoding is wrong. Packets without a string get a bit flip instead.
 */
function badUtf8(rng: Rng, out: Buffer, head: number): Buffer {
  const type = out[0]! >> 4;
  // Offset of the first string's 2-byte length: CONNECT skips protocol name, level, flags, keepalive
  // (10 bytes); SUBSCRIBE/UNSUBSCRIBE skip the packet id; PUBLISH starts with its topic.
  const at = type === 1 ? head + 10 : type === 8 || type === 10 ? head + 2 : type === 3 ? head : -1;
  if (at < 0 || at + 2 > out.length) return mutate(rng, out, "bit-flip");
  const len = out.readUInt16BE(at);
  const bad = pick(rng, BAD_UTF8);
  if (len < bad.length || at + 2 + len > out.length) return mutate(rng, out, "bit-flip");
  const start = at + 2 + int(rng, 0, len - bad.length);
  Buffer.from(bad).copy(out, start);
  return out;
}
