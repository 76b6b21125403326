/**
 * A PUBLISH whose topic length field does not fit its packet, as a board reads it: the sketch's
 * inbound guard (firmware/core/src/tf_receive.cpp, InboundGuard) lowers that field to what the
 * packet holds before PubSubClient 2.8 sees it, and PubSubClient's loop() then hands the callback
 * the lowered topic and the rest. A PUBLISH with a remaining length under 2 has its two topic-length
 * bytes taken from the next packet (node/frame-splitter.ts cuts it so), lowered to 0: the callback
 * gets an empty topic and an empty payload (docs/device-model.md, "A PUBLISH shorter than its topic
 * length").
 */
import type { PublishFields } from "./mqtt-frames.js";

/**
 * Reads the PUBLISH in `bytes` (one packet as the node's splitter cut it) into `out` as the guard and
 * PubSubClient read it; false for anything else, and for a QoS 1 packet with no room for its packet
 * id (PubSubClient reads one from its buffer's stale bytes: not modelled).
 */
export function readGuardedPublish(bytes: Buffer, out: PublishFields): boolean {
  const b0 = bytes[0];
  if (b0 === undefined || b0 >> 4 !== 3) return false;
  let rem = 0;
  let mul = 1;
  let i = 1;
  for (;;) {
    const b = bytes[i];
    if (b === undefined || i > 4) return false;
    rem += (b & 0x7f) * mul;
    i++;
    if ((b & 0x80) === 0) break;
    mul *= 128;
  }
  if (bytes.length !== i + Math.max(rem, 2)) return false;
  // InboundGuard::pass: the topic, after its 2 length bytes and before a packet id, must fit.
  const room = Math.max(0, rem - 2 - ((b0 & 0x06) !== 0 ? 2 : 0));
  const hi = bytes[i] as number;
  const lo = bytes[i + 1] as number;
  const high = (hi << 8 > room ? room >> 8 : hi) << 8;
  const tlen = high + (high + lo > room ? room - high : lo);
  let at = i + 2 + tlen;
  let messageId: number | undefined;
  const qos1 = (b0 & 0x06) === 0x02; // loop() reads a packet id for QoS 1 only
  if (qos1) {
    if (at + 2 > bytes.length) return false;
    messageId = ((bytes[at] as number) << 8) | (bytes[at + 1] as number);
    at += 2;
  }
  out.topic = bytes.toString("utf8", i + 2, i + 2 + tlen);
  out.payloadAt = at;
  out.qos = qos1 ? 1 : 0;
  out.messageId = messageId;
  return true;
}
