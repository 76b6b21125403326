/**
 * The in-memory broker's forwarded frames: a routed publish's payload kept as the bytes it came in,
 * and the QoS 0 PUBLISH a subscriber gets, copied from the incoming frame where that gives the bytes
 * `quickPublish` would write.
 */
import { quickPublish } from "../node/mqtt-frames.js";

/**
 * A routed publish's payload: `given`, or the bytes of `frame` (the PUBLISH as it came in) from
 * `payloadAt` on — viewed only when something needs it as a Buffer of its own.
 */
export interface Payload {
  given: string | Buffer | undefined;
  readonly frame: Buffer | undefined;
  readonly payloadAt: number;
}

export function payloadOf(p: Payload): string | Buffer {
  p.given ??= (p.frame as Buffer).subarray(p.payloadAt);
  return p.given;
}

/**
 * The QoS 0 PUBLISH (not retained) of `p` to `topic`, as `quickPublish` writes it: a QoS 0 frame as
 * it came in but for its first byte (no retain or dup flag) when its remaining length is written in
 * the fewest bytes and its topic was valid UTF-8 (decoded without a replacement character), so
 * writing it anew would give the same bytes; else written anew.
 */
export function qos0Frame(topic: string, p: Payload): Buffer {
  const frame = p.frame;
  if (frame === undefined || ((frame[0] as number) & 6) !== 0 || !asWritten(frame, topic)) {
    return quickPublish(topic, payloadOf(p), false);
  }
  const out = Buffer.allocUnsafe(frame.length);
  frame.copy(out, 0);
  out[0] = 0x30;
  return out;
}

/** Whether a QoS 0 `frame` with `topic` is what `quickPublish` would write for its topic and payload. */
function asWritten(frame: Buffer, topic: string): boolean {
  // The remaining length's last byte: zero only when a shorter form would have done.
  let last = 1;
  while (((frame[last] as number) & 0x80) !== 0) last++;
  return (last === 1 || frame[last] !== 0) && !topic.includes("\uFFFD");
}
