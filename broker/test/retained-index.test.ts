/**
 * The retained index of both stores: exact topics by lookup, wildcards by walking the index (and
 * matching what aedes's own store answers, for every kind of pattern), an empty payload clears. The LevelDB store loads its index when it is set up,
 * so retained messages and their clearing survive closing and reopening the directory.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import MemoryPersistence from "aedes-persistence/asyncPersistence.js";
import { ClassicLevel } from "classic-level";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { IndexedLevelPersistence } from "../level-store.js";
import { IndexedMemoryPersistence } from "../memory-store.js";
import { type RetainedPacket, topicMatches } from "../retained-index.js";

async function payloads(stream: Readable): Promise<string[]> {
  const out: string[] = [];
  for await (const p of stream as AsyncIterable<RetainedPacket>) {
    out.push(`${p.topic}=${Buffer.from(p.payload).toString()}`);
  }
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

interface Store {
  storeRetained(packet: RetainedPacket): Promise<void>;
  createRetainedStreamCombi(patterns: readonly string[]): Readable;
  createRetainedStream(pattern: string): Readable;
  destroy(): Promise<void>;
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "twinfleet-retained-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** Opens (or reopens) the LevelDB store in `dir` and sets it up as aedes would. */
async function openLevel(): Promise<IndexedLevelPersistence> {
  const db = new ClassicLevel<string, Buffer>(dir, { valueEncoding: "buffer" });
  await db.open();
  const store = new IndexedLevelPersistence(db, dir);
  await store.setup({ id: "test-broker" });
  return store;
}

const stores: [string, () => Promise<Store>][] = [
  ["memory", async () => new IndexedMemoryPersistence()],
  ["LevelDB", openLevel],
];

describe.each(stores)("the %s store", (_name, open) => {
  it("answers exact and wildcard subscriptions from its index", async () => {
    const p = await open();
    await p.storeRetained(pkt("tf/report/a", "R1 1 1 a"));
    await p.storeRetained(pkt("tf/report/b", "R1 0 0 b"));
    await p.storeRetained(pkt("tf/config/a", "C1 1 b"));
    await p.storeRetained(pkt("tf/report/a", "R1 0 2 a"));
    expect(
      await payloads(p.createRetainedStreamCombi(["tf/report/a", "tf/config/a", "tf/report/zz"])),
    ).toEqual(["tf/config/a=C1 1 b", "tf/report/a=R1 0 2 a"]);
    expect(await payloads(p.createRetainedStream("tf/report/b"))).toEqual(["tf/report/b=R1 0 0 b"]);
    expect(await payloads(p.createRetainedStreamCombi(["tf/report/+"]))).toEqual([
      "tf/report/a=R1 0 2 a",
      "tf/report/b=R1 0 0 b",
    ]);
    expect(await payloads(p.createRetainedStream("tf/#"))).toEqual([
      "tf/config/a=C1 1 b",
      "tf/report/a=R1 0 2 a",
      "tf/report/b=R1 0 0 b",
    ]);
    await p.destroy();
  });

  it("forgets a topic retained with an empty payload, on both paths", async () => {
    const p = await open();
    await p.storeRetained(pkt("tf/report/a", "R1 1 1 a"));
    await p.storeRetained(pkt("tf/report/a", ""));
    expect(await payloads(p.createRetainedStream("tf/report/a"))).toEqual([]);
    expect(await payloads(p.createRetainedStream("tf/report/+"))).toEqual([]);
    await p.destroy();
  });
});

describe("the LevelDB store reopened", () => {
  it("finds what was retained before, by exact and wildcard patterns, without what was cleared", async () => {
    const first = await openLevel();
    await first.storeRetained(pkt("tf/report/a", "R1 1 1 a"));
    await first.storeRetained(pkt("tf/status/a", "T1 1"));
    await first.storeRetained(pkt("tf/report/b", "R1 0 0 b"));
    await first.storeRetained(pkt("tf/report/b", ""));
    await first.destroy();

    const again = await openLevel();
    expect(again.retainedCount).toBe(2);
    expect(await payloads(again.createRetainedStreamCombi(["tf/report/a", "tf/report/b"]))).toEqual([
      "tf/report/a=R1 1 1 a",
    ]);
    expect(await payloads(again.createRetainedStream("tf/+/a"))).toEqual([
      "tf/report/a=R1 1 1 a",
      "tf/status/a=T1 1",
    ]);

    // Clearing after the reopen reaches the index loaded from disk, and the disk.
    await again.storeRetained(pkt("tf/status/a", ""));
    expect(await payloads(again.createRetainedStream("tf/status/a"))).toEqual([]);
    await again.destroy();
    const third = await openLevel();
    expect(await payloads(third.createRetainedStream("tf/#"))).toEqual(["tf/report/a=R1 1 1 a"]);
    expect(await payloads(third.createRetainedStream("tf/status/a"))).toEqual([]);
    await third.destroy();
  });

  it("indexes every retained topic, including $-topics and empty levels", async () => {
    const first = await openLevel();
    const topics = ["$app/x", "/lead", "a//b", "tf/report/ü"];
    for (const t of topics) await first.storeRetained(pkt(t, "x"));
    await first.destroy();
    const again = await openLevel();
    expect(again.retainedCount).toBe(topics.length);
    expect(await payloads(again.createRetainedStreamCombi(topics))).toEqual(
      topics.map((t) => `${t}=x`).sort(),
    );
    await again.destroy();
  });
});

describe("wildcard patterns", () => {
  const m = (filter: string, topic: string) => topicMatches(filter.split("/"), topic.split("/"));

  it("match as MQTT 3.1.1 says (§4.7)", () => {
    expect(m("sport/tennis/player1/#", "sport/tennis/player1")).toBe(true);
    expect(m("sport/tennis/player1/#", "sport/tennis/player1/ranking")).toBe(true);
    expect(m("sport/#", "sport")).toBe(true);
    expect(m("#", "sport/tennis")).toBe(true);
    expect(m("sport/tennis/+", "sport/tennis/player1")).toBe(true);
    expect(m("sport/tennis/+", "sport/tennis/player1/ranking")).toBe(false);
    expect(m("sport/+", "sport")).toBe(false);
    expect(m("sport/+", "sport/")).toBe(true);
    expect(m("a/+/b", "a//b")).toBe(true);
    expect(m("+/+", "/finance")).toBe(true);
    expect(m("/+", "/finance")).toBe(true);
    expect(m("+", "/finance")).toBe(false);
    expect(m("#", "$SYS/x")).toBe(false); // [MQTT-4.7.2-1]
    expect(m("+/monitor/Clients", "$SYS/monitor/Clients")).toBe(false);
    expect(m("$SYS/#", "$SYS/monitor/Clients")).toBe(true);
    expect(m("$SYS/monitor/+", "$SYS/monitor/Clients")).toBe(true);
  });

  it("get what aedes's own store answers, without its $-topics for a leading wildcard", async () => {
    // No empty levels: aedes's store never matches `+` to one ("a//b" for "a/+/b"), though the spec
    // does ("sport/+" matches "sport/", §4.7.1.3) and so do aedes's live delivery and the index.
    const topics = ["$app/x", "a/b", "a/b/c", "a", "tf/report/ü", "tf/report/a", "tf/config/a"];
    const patterns = ["#", "+", "+/+", "a/#", "a/+", "a/+/b", "a/+/+", "tf/+/a", "tf/report/+", "$app/#"];
    const ours = new IndexedMemoryPersistence();
    const theirs = new MemoryPersistence();
    for (const t of topics) {
      await ours.storeRetained(pkt(t, "x"));
      await theirs.storeRetained(pkt(t, "x"));
    }
    for (const p of patterns) {
      // aedes's store hands `#` its $-topics too (aedes filters them only from live delivery).
      const leading = p.startsWith("+") || p.startsWith("#");
      const expected = (await payloads(theirs.createRetainedStream(p))).filter(
        (x) => !leading || !x.startsWith("$"),
      );
      expect(await payloads(ours.createRetainedStream(p)), p).toEqual(expected);
    }
    expect(await payloads(ours.createRetainedStream("#"))).not.toContain("$app/x=x");
    // Overlapping patterns: each retained message once (aedes's store repeats it per pattern).
    const both = await payloads(theirs.createRetainedStreamCombi(["a/#", "a/+"]));
    expect(await payloads(ours.createRetainedStreamCombi(["a/#", "a/+"]))).toEqual([...new Set(both)]);
  });
});
