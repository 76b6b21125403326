/**
 * Splits a TCP byte stream into whole MQTT packets (fixed header + remaining length), so the link
 * can treat each packet as one segment and the W5100 model can count its bytes; a packet over what
 * its reader keeps is not held whole, and a malformed remaining length ends the splitting.
 */

/**
 * A packet longer than `keep` bytes is not held whole: its first `keep` bytes are kept (its header
 * still tells its whole length: `announcedBytes`), the rest counted as it passes and let go, as
 * PubSubClient keeps the first bytes of a packet over its buffer in the buffer and drains the rest.
 * Chunks of a packet not complete yet are joined once, when enough of them are in.
 * A remaining length still going on at its fourth byte is malformed: its first 5 bytes (all that
 * PubSubClient's readPacket() reads of it before it stops the socket) come as the last packet, and
 * nothing after it is split (`malformedHead` tells it apart). A PUBLISH with a remaining length
 * under 2 takes the 2 bytes after its header, as PubSubClient reads its topic length (`frameSize`).
 */
export class FrameSplitter {
  private parts: Buffer[] = [];
  private partsBytes = 0;
  /** Bytes to have in `parts` before looking again (the packet begun, or a byte more of its header). */
  private need = 0;
  /** The kept head of a packet over `keep`, and how many of its bytes are still to pass. */
  private long: { readonly head: Buffer; left: number } | undefined;
  /** A malformed length was handed on: the stream has no packet boundaries any more. */
  private broken = false;

  constructor(private readonly keep = Number.POSITIVE_INFINITY) {}

  /** Bytes held now (at most `keep` and a chunk, whatever the packets announce). */
  get heldBytes(): number {
    return this.partsBytes + (this.long?.head.length ?? 0);
  }

  /** A packet is begun and not whole yet: some of its bytes are in, its last is not. */
  get pending(): boolean {
    return this.partsBytes > 0 || this.long !== undefined;
  }

  /** Feeds a chunk; calls `onPacket` for every complete packet in order, then a malformed head. */
  push(chunk: Buffer, onPacket: (packet: Buffer) => void): void {
    if (this.broken) return;
    let buf = chunk;
    const long = this.long;
    if (long !== undefined) {
      const passed = Math.min(long.left, buf.length);
      long.left -= passed;
      if (long.left > 0) return;
      this.long = undefined;
      onPacket(long.head);
      buf = buf.subarray(passed);
    }
    if (this.partsBytes + buf.length < this.need) {
      this.parts.push(buf);
      this.partsBytes += buf.length;
      return;
    }
    if (this.parts.length > 0) buf = Buffer.concat([...this.parts, buf]);
    this.parts = [];
    this.partsBytes = 0;
    this.need = 0;
    for (;;) {
      if (malformedHead(buf)) {
        this.broken = true;
        this.parts = [];
        this.partsBytes = 0;
        onPacket(Buffer.from(buf.subarray(0, 5)));
        return;
      }
      const size = frameSize(buf);
      if (size === undefined) break;
      if (size > this.keep && buf.length >= this.keep) {
        const head = Buffer.from(buf.subarray(0, this.keep));
        if (size <= buf.length) {
          onPacket(head);
          buf = buf.subarray(size);
          continue;
        }
        this.long = { head, left: size - buf.length };
        return;
      }
      if (size > buf.length) {
        this.need = Math.min(size, this.keep);
        break;
      }
      onPacket(buf.subarray(0, size));
      buf = buf.subarray(size);
    }
    if (buf.length === 0) return;
    if (this.need === 0) this.need = buf.length + 1; // the header is not complete
    this.parts = [Buffer.from(buf)];
    this.partsBytes = buf.length;
  }
}

/** The whole length of the packet whose first bytes are `bytes` (a FrameSplitter's), as its header tells it. */
export function announcedBytes(bytes: Buffer): number {
  return malformedHead(bytes) ? bytes.length : (frameSize(bytes) ?? bytes.length);
}

/** The packet starting at buf[0] has a remaining length still going on at its fourth byte. */
export function malformedHead(buf: Buffer): boolean {
  if (buf.length < 5) return false;
  for (let i = 1; i <= 4; i++) if (((buf[i] as number) & 0x80) === 0) return false;
  return true;
}

/**
 * Bytes of the packet starting at buf[0] as a board reads them (a PUBLISH takes at least 2 after its
 * header), or undefined when its header is not complete yet.
 */
export function frameSize(buf: Buffer): number | undefined {
  let len = 0;
  let mul = 1;
  for (let i = 1; i <= 4; i++) {
    const b = buf[i];
    if (b === undefined) return undefined;
    len += (b & 0x7f) * mul;
    // PubSubClient's readPacket() reads a PUBLISH's two topic-length bytes whatever its remaining
    // length says: under 2, they are the next packet's first bytes.
    if ((b & 0x80) === 0) return 1 + i + ((buf[0] as number) >> 4 === 3 ? Math.max(len, 2) : len);
    mul *= 128;
  }
  throw new Error("malformed MQTT remaining length");
}
