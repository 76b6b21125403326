/**
 * Splits a TCP byte stream into whole MQTT packets (fixed header + remaining length), so the link
 * can treat each packet as one segment and the W5100 model can count its bytes.
 */

export class FrameSplitter {
  private pending: Buffer | undefined;

  /** Feeds a chunk; calls `onPacket` for every complete packet in order. Throws on a malformed length. */
  push(chunk: Buffer, onPacket: (packet: Buffer) => void): void {
    let buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    for (;;) {
      const size = frameSize(buf);
      if (size === undefined || size > buf.length) break;
      onPacket(buf.subarray(0, size));
      buf = buf.subarray(size);
    }
    if (buf.length > 0) this.pending = Buffer.from(buf);
  }
}

/** Bytes of the packet starting at buf[0], or undefined when its header is not complete yet. */
export function frameSize(buf: Buffer): number | undefined {
  let len = 0;
  let mul = 1;
  for (let i = 1; i <= 4; i++) {
    const b = buf[i];
    if (b === undefined) return undefined;
    len += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) return 1 + i + len;
    mul *= 128;
  }
  throw new Error("malformed MQTT remaining length");
}
