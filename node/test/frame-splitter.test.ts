/**
 * The split of a broker's byte stream into packets: whole packets across any chunking, and a packet
 * over what the board keeps (PubSubClient's buffer) never held whole, however long it says it is.
 */
import { describe, expect, it } from "vitest";
import { announcedBytes, FrameSplitter, malformedHead, quickPublish } from "../mqtt-frames.js";
import { splitInto } from "../wire.js";

/** The chunks of `bytes`, `size` bytes each. */
function chunks(bytes: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, at + size));
  return out;
}

/** A PUBLISH header announcing `total` bytes in all (1 + 4 length bytes + body). */
function announcing(total: number): Buffer {
  let rem = total - 5;
  const b = [0x30];
  for (let i = 0; i < 4; i++) {
    b.push((rem % 128) | (i < 3 ? 0x80 : 0));
    rem = Math.floor(rem / 128);
  }
  return Buffer.from(b);
}

describe("FrameSplitter", () => {
  it("hands on whole packets, in order, however the stream is cut", () => {
    const packets = [quickPublish("tf/state/A", "S1 1 5", false), Buffer.from([0xd0, 0])];
    packets.push(quickPublish("tf/report/B", "x".repeat(300), false, 7));
    const stream = Buffer.concat(packets);
    for (const size of [1, 2, 3, 7, 64, stream.length]) {
      const got: Buffer[] = [];
      const f = new FrameSplitter(257);
      for (const c of chunks(stream, size)) f.push(c, (p) => got.push(Buffer.from(p)));
      expect(got.slice(0, 2)).toEqual(packets.slice(0, 2));
      // The 300-byte one, over 257: its head, whose header still says its whole length.
      expect(got[2]).toEqual(packets[2]?.subarray(0, 257));
      expect(announcedBytes(got[2] as Buffer)).toBe(packets[2]?.length);
      expect(f.heldBytes).toBe(0);
    }
  });

  it("holds no more than it keeps of a packet announcing 256 MB while 8 MB of it stream by", () => {
    const f = new FrameSplitter(257);
    const got: Buffer[] = [];
    const total = 268_435_460;
    f.push(announcing(total), (p) => got.push(p));
    const chunk = Buffer.alloc(65_536, 0x41);
    let most = 0;
    for (let i = 0; i < 128; i++) {
      f.push(chunk, (p) => got.push(p));
      most = Math.max(most, f.heldBytes);
    }
    expect(got).toEqual([]);
    expect(most).toBeLessThanOrEqual(257);
  });

  it("hands on a long packet's head once its last byte passes, and the packet behind it whole", () => {
    const f = new FrameSplitter(257);
    const got: Buffer[] = [];
    const total = 70_000;
    const behind = quickPublish("tf/state/A", "S1 1 5", false);
    const stream = Buffer.concat([announcing(total), Buffer.alloc(total - 5, 0x41), behind]);
    for (const c of chunks(stream, 4096)) f.push(c, (p) => got.push(Buffer.from(p)));
    expect(got.map((p) => p.length)).toEqual([257, behind.length]);
    expect(announcedBytes(got[0] as Buffer)).toBe(total);
    expect(got[1]).toEqual(behind);
    expect(f.heldBytes).toBe(0);
  });

  it("keeps every packet whole without a limit (a Linux client's reader)", () => {
    const f = new FrameSplitter();
    const big = quickPublish("t", "y".repeat(100_000), false);
    const got: Buffer[] = [];
    for (const c of chunks(big, 1000)) f.push(c, (p) => got.push(Buffer.from(p)));
    expect(got.length).toBe(1);
    expect(got[0]?.equals(big)).toBe(true);
  });

  it("hands on a remaining length of five bytes as its 5-byte head, then nothing: the node stops there", () => {
    const f = new FrameSplitter(257);
    const ok = quickPublish("t", "x", false);
    const bad = Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x01, 0x02]);
    const got: Buffer[] = [];
    // Cut inside the length, as TCP may cut it: the head comes once its fifth byte is in.
    f.push(Buffer.concat([ok, bad.subarray(0, 3)]), (p) => got.push(Buffer.from(p)));
    expect(got).toEqual([ok]);
    f.push(bad.subarray(3), (p) => got.push(Buffer.from(p)));
    f.push(ok, (p) => got.push(Buffer.from(p)));
    expect(got).toEqual([ok, bad.subarray(0, 5)]);
    expect(malformedHead(got[1] as Buffer)).toBe(true);
    expect(announcedBytes(got[1] as Buffer)).toBe(5);
  });

  it("gives a PUBLISH with a remaining length under 2 the 2 bytes after its header, as readPacket() reads its topic length", () => {
    const out: string[] = [];
    const f = new FrameSplitter(257);
    f.push(Buffer.from([0x30, 0x00, 0xc0]), (p) => out.push(p.toString("hex")));
    expect(out).toEqual([]);
    expect(f.pending).toBe(true);
    f.push(Buffer.from([0x00, 0x31, 0x01, 0x78, 0xd0, 0xc0, 0x00]), (p) => out.push(p.toString("hex")));
    expect(out).toEqual(["3000c000", "310178d0", "c000"]);
    expect(announcedBytes(Buffer.from("3000c000", "hex"))).toBe(4);
  });

  it("tells a wire's handlers when a read ends inside a packet, after the packets it completed", () => {
    const a = quickPublish("tf/a", "1", false);
    const big = Buffer.concat([announcing(600), Buffer.alloc(595, 0x31)]);
    const told: string[] = [];
    const f = new FrameSplitter(257);
    const h = {
      packet: (p: Buffer) => told.push(`packet ${p.length}`),
      partial: () => told.push("partial"),
      closed: () => {},
    };
    splitInto(f, Buffer.concat([a, a.subarray(0, 1)]), h); // a whole packet, then the next one's first byte
    splitInto(f, a.subarray(1), h);
    splitInto(f, big.subarray(0, 300), h); // over the buffer: its head kept, the rest passing
    splitInto(f, big.subarray(300), h);
    expect(told).toEqual([`packet ${a.length}`, "partial", `packet ${a.length}`, "partial", "packet 257"]);
    expect(f.pending).toBe(false);
  });
});
