// The in-memory store's retained index: exact topics by lookup, wildcards by aedes's scan, an empty
// payload clears, and both paths agree.
import { describe, expect, it } from "vitest";
import { IndexedMemoryPersistence } from "../memory-store.js";

async function topics(stream: NodeJS.ReadableStream): Promise<string[]> {
  const out: string[] = [];
  for await (const p of stream as AsyncIterable<{ topic: string }>) out.push(p.topic);
  return out.sort();
}

const pkt = (topic: string, payload: string) => ({
  cmd: "publish",
  topic,
  payload: Buffer.from(payload),
  qos: 0,
  retain: true,
  messageId: 0,
  dup: false,
});

describe("IndexedMemoryPersistence", () => {
  it("answers exact subscriptions from its index and wildcards by scanning", async () => {
    const p = new IndexedMemoryPersistence();
    await p.storeRetained(pkt("tf/report/a", "R1 1 1 a"));
    await p.storeRetained(pkt("tf/report/b", "R1 0 0 b"));
    await p.storeRetained(pkt("tf/config/a", "C1 1 b"));
    expect(await topics(p.createRetainedStreamCombi(["tf/report/a", "tf/config/a", "tf/report/zz"]))).toEqual(
      ["tf/config/a", "tf/report/a"],
    );
    expect(await topics(p.createRetainedStream("tf/report/b"))).toEqual(["tf/report/b"]);
    expect(await topics(p.createRetainedStreamCombi(["tf/report/+"]))).toEqual([
      "tf/report/a",
      "tf/report/b",
    ]);
    expect(await topics(p.createRetainedStream("tf/#"))).toEqual([
      "tf/config/a",
      "tf/report/a",
      "tf/report/b",
    ]);
  });

  it("forgets a topic retained with an empty payload, on both paths", async () => {
    const p = new IndexedMemoryPersistence();
    await p.storeRetained(pkt("tf/report/a", "R1 1 1 a"));
    await p.storeRetained(pkt("tf/report/a", ""));
    expect(await topics(p.createRetainedStream("tf/report/a"))).toEqual([]);
    expect(await topics(p.createRetainedStream("tf/report/+"))).toEqual([]);
  });
});
