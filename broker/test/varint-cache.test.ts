/**
 * mqtt-packet keeps the remaining-length encodings it has written (lengths under 16384) for the life
 * of the process. Unpatched (9.0.2), each is a slice of Node's shared Buffer pool and keeps its whole
 * 8 KiB pool block alive: a broker forwarding packets of many different lengths (the fuzz soak) grew
 * by a pool block per length met. patches/mqtt-packet+9.0.2.patch copies them into one un-pooled
 * block; this checks what the broker and every client write.
 */
import type { Writable } from "node:stream";
import mqttPacket from "mqtt-packet";
import { describe, expect, it } from "vitest";

/** The chunks writeToStream writes for one PUBLISH whose remaining length is `length`. */
function chunksOf(length: number): Buffer[] {
  const chunks: Buffer[] = [];
  const sink = {
    write(chunk: Buffer | string) {
      chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
      return true;
    },
    destroy() {},
  };
  const topic = "t/x";
  // Remaining length of a QoS 0 PUBLISH: 2-byte topic length + topic + payload.
  const payload = Buffer.alloc(length - 2 - topic.length, 0x61);
  mqttPacket.writeToStream(
    { cmd: "publish", topic, payload, qos: 0, dup: false, retain: false },
    sink as unknown as Writable,
  );
  return chunks;
}

describe("mqtt-packet's remaining-length cache", () => {
  it("holds its encodings in one block of its own, not in slices of the shared Buffer pool", () => {
    const blocks = new Set<ArrayBufferLike>();
    // Lengths met one by one with other pooled allocations between them, as a broker meets them.
    for (const length of [5, 127, 128, 300, 4095, 9000, 16383]) {
      Buffer.allocUnsafe(64); // another user of the pool, between two cached lengths
      const [, lengthChunk] = chunksOf(length);
      if (lengthChunk === undefined) throw new Error("writeToStream wrote no remaining length");
      expect(lengthChunk.length).toBe(length < 128 ? 1 : 2);
      blocks.add(lengthChunk.buffer);
      // The same encoding is served again from the cache.
      expect(chunksOf(length)[1]?.buffer).toBe(lengthChunk.buffer);
    }
    expect(blocks.size).toBe(1);
    const [block] = blocks;
    // 128 one-byte and 16256 two-byte encodings, and nothing else: not an 8 KiB pool block.
    expect(block?.byteLength).toBe(128 + (16384 - 128) * 2);
    expect(block?.byteLength).not.toBe(Buffer.poolSize);
  });

  it("still encodes what it caches correctly", () => {
    const decoded: number[] = [];
    const parser = mqttPacket.parser();
    parser.on("packet", (p) => decoded.push(p.cmd === "publish" ? Buffer.from(p.payload).length : -1));
    for (const length of [5, 127, 128, 16383, 16384, 70000]) parser.parse(Buffer.concat(chunksOf(length)));
    expect(decoded).toEqual([0, 122, 123, 16378, 16379, 69995]);
  });
});
