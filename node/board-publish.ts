/**
 * A PUBLISH whose topic length field does not fit its packet, as a board reads it, and the two bytes
 * of PubSubClient 2.8's buffer such a packet can take its packet id from. The sketch's inbound guard
 * (firmware/core/src/tf_receive.cpp, InboundGuard) lowers that field to what the packet holds before
 * PubSubClient sees it (the topic before a QoS 1 or 2 packet id), and PubSubClient's loop() then
 * hands the callback the lowered topic and the rest. A PUBLISH with a remaining length under 2 has
 * its two topic-length bytes taken from the next packet (node/frame-splitter.ts cuts it so), lowered
 * to 0. A QoS 1 one with a remaining length under 4 has no room for its packet id even then: loop()
 * reads the id at bytes 4 and 5 of its buffer, past the packet (what the last packet read or written
 * left there), hands the callback a length wrapped below zero (which the sketch's copyReceived
 * refuses) and acknowledges that id (docs/device-model.md, "A PUBLISH shorter than its topic length").
 */
import type { PublishFields } from "./mqtt-frames.js";

/** What the guard and loop() make of a PUBLISH: a message, or one whose length wrapped below zero. */
export type GuardedRead = "message" | "wrapped";

/**
 * Bytes 4 and 5 of PubSubClient's buffer, kept as the board's client writes and reads its packets:
 * the packet id of a QoS 1 PUBLISH too short to hold one.
 */
export class BoardBuffer {
  private b4 = 0;
  private b5 = 0;

  /**
   * A packet the client wrote: connect(), publish(), subscribe() and unsubscribe() build theirs
   * behind the buffer's 5 bytes of header room (MQTT_MAX_HEADER_SIZE), the fixed header ending at
   * byte 4; a PUBACK, PINGREQ, PINGRESP or DISCONNECT is written from byte 0.
   */
  wrote(bytes: Buffer): void {
    const type = (bytes[0] ?? 0) >> 4;
    const built = type === 1 || type === 3 || type === 8 || type === 10;
    const from = built ? 5 - fixedHeader(bytes) : 0;
    if (from <= 4 && 4 - from < bytes.length) this.b4 = bytes[4 - from] as number;
    if (from <= 5 && 5 - from < bytes.length) this.b5 = bytes[5 - from] as number;
  }

  /**
   * A packet readPacket() read (`bytes`, as the node's splitter cut it: its first bytes at least),
   * through the guard, into the buffer's start, even one over the buffer that loop() then ignores;
   * for a PUBLISH that fitted (`delivered`), loop() then moves the topic one byte to the front and
   * ends it with a NUL.
   */
  read(bytes: Buffer, delivered: boolean): void {
    const b0 = bytes[0] ?? 0;
    const at = fixedHeader(bytes);
    if (b0 >> 4 !== 3 || at === 0) {
      this.b4 = bytes[4] ?? this.b4;
      this.b5 = bytes[5] ?? this.b5;
      return;
    }
    const tl = guardedTopicLength(b0, head.rem, bytes[at] ?? 0, bytes[at + 1] ?? 0);
    this.b4 = this.afterRead(bytes, 4, at, tl, delivered) ?? this.b4;
    this.b5 = this.afterRead(bytes, 5, at, tl, delivered) ?? this.b5;
  }

  /** Byte `k` of the buffer once a PUBLISH (topic length `tl` as the guard lowered it, at `at`) was read. */
  private afterRead(
    bytes: Buffer,
    k: number,
    at: number,
    tl: number,
    delivered: boolean,
  ): number | undefined {
    if (delivered && k >= at + 1 && k < at + 1 + tl) return guarded(bytes, k + 1, at, tl); // the memmove
    if (delivered && k === at + 1 + tl) return 0; // the topic's NUL
    return guarded(bytes, k, at, tl);
  }

  /** The packet id loop() reads for a QoS 1 PUBLISH with no room for one. */
  get staleId(): number {
    return (this.b4 << 8) | this.b5;
  }
}

/**
 * Reads the PUBLISH in `bytes` (one packet as the node's splitter cut it) into `out` as the guard and
 * PubSubClient read it, `buffer` having read it already; false for anything else. "wrapped": a QoS 1
 * one with no room for its packet id, its id taken from `buffer`, the callback's length below zero.
 */
export function readGuardedPublish(
  bytes: Buffer,
  out: PublishFields,
  buffer: BoardBuffer,
): GuardedRead | false {
  const b0 = bytes[0];
  if (b0 === undefined || b0 >> 4 !== 3) return false;
  const i = fixedHeader(bytes);
  const rem = head.rem;
  if (i === 0 || bytes.length !== i + Math.max(rem, 2)) return false;
  const tlen = guardedTopicLength(b0, rem, bytes[i] as number, bytes[i + 1] as number);
  let at = i + 2 + tlen;
  let messageId: number | undefined;
  const qos1 = (b0 & 0x06) === 0x02; // loop() reads a packet id for QoS 1 only
  const wrapped = qos1 && at + 2 > bytes.length;
  if (qos1) {
    messageId = wrapped ? buffer.staleId : ((bytes[at] as number) << 8) | (bytes[at + 1] as number);
    at += 2;
  }
  out.topic = bytes.toString("utf8", i + 2, i + 2 + tlen);
  out.payloadAt = Math.min(at, bytes.length);
  out.qos = qos1 ? 1 : 0;
  out.messageId = messageId;
  return wrapped ? "wrapped" : "message";
}

/** InboundGuard::pass on a topic length: the topic, after its 2 length bytes and before a packet id at QoS 1 and 2, must fit. */
function guardedTopicLength(b0: number, rem: number, hi: number, lo: number): number {
  const room = Math.max(0, rem - 2 - ((b0 & 0x06) !== 0 ? 2 : 0));
  const high = (hi << 8 > room ? room >> 8 : hi) << 8;
  return high + (high + lo > room ? room - high : lo);
}

/** Byte `k` of a PUBLISH whose topic length (bytes `at` and `at + 1`) the guard handed on as `tl`. */
function guarded(bytes: Buffer, k: number, at: number, tl: number): number | undefined {
  return k === at ? tl >> 8 : k === at + 1 ? tl & 0xff : bytes[k];
}

/** The remaining length `fixedHeader` read last (one object for every packet: none made per packet). */
const head = { rem: 0 };

/** Where a packet's variable header starts (0: its remaining length runs past 4 bytes, or is cut); its remaining length in `head`. */
function fixedHeader(bytes: Buffer): number {
  let rem = 0;
  let mul = 1;
  for (let i = 1; i <= 4; i++) {
    const b = bytes[i];
    if (b === undefined) break;
    rem += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) {
      head.rem = rem;
      return i + 1;
    }
    mul *= 128;
  }
  head.rem = 0;
  return 0;
}
