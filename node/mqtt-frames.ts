/**
 * Reads and writes the MQTT packets nodes exchange most, without a parser object where it can; the
 * full parser for the rest. The stream's splitting into packets is node/frame-splitter.ts's.
 */
import { type Packet, type Parser, parser } from "mqtt-packet";

export { announcedBytes, FrameSplitter, frameSize, malformedHead } from "./frame-splitter.js";

/**
 * The packets a simulated node and the in-memory broker exchange most, read without a parser
 * object: PUBLISH (QoS 0 or 1), PUBACK, PINGREQ, PINGRESP and DISCONNECT. Anything else — and any
 * packet that is not well formed — is undefined, for the full parser to handle (and to reject).
 */
export type QuickPacket =
  | {
      readonly cmd: "publish";
      readonly topic: string;
      readonly payload: Buffer;
      readonly qos: 0 | 1;
      readonly retain: boolean;
      readonly dup: boolean;
      readonly messageId: number | undefined;
    }
  | { readonly cmd: "puback"; readonly messageId: number }
  | { readonly cmd: "pingreq" }
  | { readonly cmd: "pingresp" }
  | { readonly cmd: "disconnect" };

const PINGREQ: QuickPacket = { cmd: "pingreq" };
const PINGRESP: QuickPacket = { cmd: "pingresp" };
const DISCONNECT: QuickPacket = { cmd: "disconnect" };

/**
 * Where a PUBLISH's parts lie in its bytes: what `readPublish` fills (an object of the reader's
 * own, reused per packet), so the hot path reads the topic and the payload without a packet object
 * or a payload view.
 */
export interface PublishFields {
  topic: string;
  /** The payload runs from here to the end of the bytes. */
  payloadAt: number;
  qos: 0 | 1;
  messageId: number | undefined;
}

/** A `PublishFields` for `readPublish` to fill. */
export function publishFields(): PublishFields {
  return { topic: "", payloadAt: 0, qos: 0, messageId: undefined };
}

/**
 * The length of the fixed header of the packet in `bytes` (1 + the remaining-length bytes), or 0 when
 * the remaining length is malformed or the bytes are not exactly one packet.
 */
function headerLength(bytes: Buffer): number {
  let len = 0;
  let mul = 1;
  let i = 1;
  for (;;) {
    const b = bytes[i];
    if (b === undefined || i > 4) return 0;
    len += (b & 0x7f) * mul;
    i++;
    if ((b & 0x80) === 0) break;
    mul *= 128;
  }
  return i + len === bytes.length ? i : 0;
}

/** Reads a PUBLISH (QoS 0 or 1) into `out`; false for anything else, as `quickDecode` would say. */
export function readPublish(bytes: Buffer, out: PublishFields): boolean {
  const b0 = bytes[0];
  if (b0 === undefined || b0 >> 4 !== 3) return false;
  const i = headerLength(bytes);
  return i > 0 && publishAt(bytes, b0, i, out);
}

/**
 * A PUBLISH as PubSubClient 2.8's loop() reads it into `out`: only QoS 1 has a packet id (answered
 * with a PUBACK); a PUBLISH with the QoS bits of 2, or the reserved 3, is read as QoS 0, so a QoS 2
 * packet's 2-byte id begins its payload and nothing answers it (no PUBREC). False as `readPublish`.
 */
export function readBoardPublish(bytes: Buffer, out: PublishFields): boolean {
  const b0 = bytes[0];
  if (b0 === undefined || b0 >> 4 !== 3) return false;
  const i = headerLength(bytes);
  return i > 0 && publishAt(bytes, (b0 & 0x06) === 0x02 ? b0 : b0 & ~0x06, i, out);
}

/** The PUBLISH whose variable header starts at `i` (its remaining length checked), read into `out`. */
function publishAt(bytes: Buffer, b0: number, i: number, out: PublishFields): boolean {
  const qos = (b0 >> 1) & 3;
  if (qos > 1) return false;
  if (bytes.length - i < 2) return false;
  const tlen = ((bytes[i] as number) << 8) | (bytes[i + 1] as number);
  let at = i + 2 + tlen;
  if (at > bytes.length || tlen === 0) return false;
  let messageId: number | undefined;
  if (qos === 1) {
    if (at + 2 > bytes.length) return false;
    messageId = ((bytes[at] as number) << 8) | (bytes[at + 1] as number);
    at += 2;
  }
  out.topic = bytes.toString("utf8", i + 2, i + 2 + tlen);
  out.payloadAt = at;
  out.qos = qos === 1 ? 1 : 0;
  out.messageId = messageId;
  return true;
}

/** `quickDecode`'s reading of a PUBLISH (reused: it is copied into the packet at once). */
const fields = publishFields();

export function quickDecode(bytes: Buffer): QuickPacket | undefined {
  const b0 = bytes[0];
  if (b0 === undefined) return undefined;
  const i = headerLength(bytes);
  if (i === 0) return undefined;
  const len = bytes.length - i;
  switch (b0) {
    case 0xc0:
      return len === 0 ? PINGREQ : undefined;
    case 0xd0:
      return len === 0 ? PINGRESP : undefined;
    case 0xe0:
      return len === 0 ? DISCONNECT : undefined;
    case 0x40:
      return len === 2
        ? { cmd: "puback", messageId: ((bytes[i] as number) << 8) | (bytes[i + 1] as number) }
        : undefined;
    default:
      break;
  }
  if (b0 >> 4 !== 3 || !publishAt(bytes, b0, i, fields)) return undefined;
  return {
    cmd: "publish",
    topic: fields.topic,
    payload: bytes.subarray(fields.payloadAt),
    qos: fields.qos,
    retain: (b0 & 1) === 1,
    dup: (b0 & 8) === 8,
    messageId: fields.messageId,
  };
}

/** The remaining length `rem` written from `at` on in `out`; returns where it ends. */
function writeLength(out: Buffer, at: number, rem: number): number {
  let r = rem;
  let i = at;
  do {
    let d = r % 128;
    r = Math.floor(r / 128);
    if (r > 0) d |= 0x80;
    out[i++] = d;
  } while (r > 0);
  return i;
}

/** Bytes of a remaining length `rem` once written. */
function lengthBytes(rem: number): number {
  let n = 1;
  for (let r = rem; r >= 128; r = Math.floor(r / 128)) n++;
  return n;
}

/**
 * A PUBLISH as mqtt-packet's generate() makes it (byte for byte): QoS 0, or QoS 1 with `messageId`
 * (not a duplicate).
 */
export function quickPublish(
  topic: string,
  payload: string | Buffer,
  retain: boolean,
  messageId?: number,
): Buffer {
  const tlen = Buffer.byteLength(topic, "utf8");
  const plen = typeof payload === "string" ? Buffer.byteLength(payload, "utf8") : payload.length;
  const idLen = messageId === undefined ? 0 : 2;
  const rem = 2 + tlen + idLen + plen;
  const out = Buffer.allocUnsafe(1 + lengthBytes(rem) + rem);
  out[0] = 0x30 | (idLen > 0 ? 0x02 : 0) | (retain ? 1 : 0);
  let at = writeLength(out, 1, rem);
  out[at++] = tlen >> 8;
  out[at++] = tlen & 0xff;
  at += out.write(topic, at, "utf8");
  if (messageId !== undefined) {
    out[at++] = (messageId >> 8) & 0xff;
    out[at++] = messageId & 0xff;
  }
  if (typeof payload === "string") out.write(payload, at, "utf8");
  else payload.copy(out, at);
  return out;
}

/** One filter of a SUBSCRIBE. */
export interface Subscription {
  readonly topic: string;
  readonly qos: 0 | 1 | 2;
}

/**
 * A SUBSCRIBE (MQTT 3.1.1) read as mqtt-packet reads its id and filters, or undefined for anything
 * else and anything it would not take as it is (reserved bits set, an empty or overrunning filter):
 * those are the full parser's to read or reject.
 */
export function readSubscribe(
  bytes: Buffer,
): { readonly messageId: number; readonly subscriptions: Subscription[] } | undefined {
  if (bytes[0] !== 0x82) return undefined;
  const i = headerLength(bytes);
  if (i === 0 || bytes.length - i < 5) return undefined;
  const messageId = ((bytes[i] as number) << 8) | (bytes[i + 1] as number);
  const subscriptions: Subscription[] = [];
  let at = i + 2;
  while (at < bytes.length) {
    if (at + 2 > bytes.length) return undefined;
    const tlen = ((bytes[at] as number) << 8) | (bytes[at + 1] as number);
    const end = at + 2 + tlen;
    if (tlen === 0 || end + 1 > bytes.length) return undefined;
    const options = bytes[end] as number;
    if (options > 2) return undefined; // reserved bits, or QoS 3
    subscriptions.push({ topic: bytes.toString("utf8", at + 2, end), qos: options as 0 | 1 | 2 });
    at = end + 1;
  }
  return { messageId, subscriptions };
}

/** A SUBSCRIBE to one filter, as generate() makes it for MQTT 3.1.1. */
export function quickSubscribe(messageId: number, topic: string, qos: 0 | 1): Buffer {
  const tlen = Buffer.byteLength(topic, "utf8");
  const rem = 2 + 2 + tlen + 1;
  const out = Buffer.allocUnsafe(1 + lengthBytes(rem) + rem);
  out[0] = 0x82;
  let at = writeLength(out, 1, rem);
  out[at++] = (messageId >> 8) & 0xff;
  out[at++] = messageId & 0xff;
  out[at++] = tlen >> 8;
  out[at++] = tlen & 0xff;
  at += out.write(topic, at, "utf8");
  out[at] = qos;
  return out;
}

/** A SUBACK granting `granted` (one code per filter), as generate() makes it for MQTT 3.1.1. */
export function quickSuback(messageId: number, granted: readonly number[]): Buffer {
  const rem = 2 + granted.length;
  const out = Buffer.allocUnsafe(1 + lengthBytes(rem) + rem);
  out[0] = 0x90;
  let at = writeLength(out, 1, rem);
  out[at++] = (messageId >> 8) & 0xff;
  out[at++] = messageId & 0xff;
  for (const g of granted) out[at++] = g & 0xff;
  return out;
}

/**
 * Whether `bytes` is exactly one SUBACK or UNSUBACK packet: PubSubClient reads them and does nothing
 * with them, whatever they hold.
 */
export function isAckOfSubscription(bytes: Buffer): boolean {
  const b0 = bytes[0];
  return (b0 === 0x90 || b0 === 0xb0) && headerLength(bytes) > 0;
}

/** A PUBACK, as generate() makes it. */
export function quickPuback(messageId: number): Buffer {
  return Buffer.from([0x40, 0x02, (messageId >> 8) & 0xff, messageId & 0xff]);
}

/**
 * Whether a full mqtt-packet parser sits between packets — nothing buffered, no packet begun, or a
 * failed one it would reset on the next parse — so a fresh parser would read what comes next the same.
 */
export function parserIdle(p: Parser): boolean {
  const q = p as unknown as { packet?: { length?: number }; _stateCounter?: number; error?: unknown };
  if (q.error != null) return true;
  return q._stateCounter === 0 && q.packet?.length === -1;
}

/**
 * Reads whole packets one at a time: the quick reader first, else mqtt-packet's parser, made when
 * first needed. Once nothing is left half-read the parser is let go (a fresh one reads the next
 * packet the same); it is needed for CONNACK and SUBACK only, so most of a run holds none.
 */
export class PacketReader {
  private parse: Parser | undefined;
  private parsed: Packet | undefined;

  /** A parser holds a part-read packet. */
  get busy(): boolean {
    return this.parse !== undefined;
  }

  /** The packet `bytes` complete, or undefined (malformed, or not complete yet). */
  read(bytes: Buffer): Packet | QuickPacket | undefined {
    const quick = quickDecode(bytes);
    if (quick) return quick;
    if (!this.parse) {
      const p = parser({ protocolVersion: 4 });
      p.on("packet", (pk: Packet) => {
        this.parsed = pk;
      });
      p.on("error", () => {
        this.parsed = undefined;
      });
      this.parse = p;
    }
    this.parsed = undefined;
    if (this.parse.parse(bytes) === 0 && parserIdle(this.parse)) this.parse = undefined;
    return this.parsed;
  }
}
