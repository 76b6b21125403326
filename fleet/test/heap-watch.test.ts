/**
 * A thread's heap near its limit is told once, in one line naming the thread, before it dies out of
 * memory: a run's broker thread at its heap limit used to lag for a minute and end the run as an
 * outage of the broker without a word about memory. The threads report their heap with their lag.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { expect, it } from "vitest";
import { HeapLive, type HeapReading } from "../../node/heap-live.js";
import { HEAP_WARN_SHARE, HeapWatch, watchOwnHeap, youngGenerationMB } from "../heap-watch.js";
import { LagMonitor } from "../lag.js";

it("tells a thread whose live heap reaches the share of its limit, once", () => {
  const lines: string[] = [];
  // V8's limit under --max-old-space-size=150: the old generation's 150 MB and a young one of 48 MB.
  const w = new HeapWatch((l) => lines.push(l), 48);
  w.observe("broker", { limitMB: 198 }); // no full collection yet: nothing known
  w.observe("broker", { liveMB: Math.ceil(150 * HEAP_WARN_SHARE) - 1, limitMB: 198 });
  expect(lines).toEqual([]);
  w.observe("broker", { liveMB: 131, limitMB: 198 });
  w.observe("broker", { liveMB: 140, limitMB: 198 });
  expect(lines).toEqual([
    "the embedded broker's thread: its JS heap holds 131 MB after a full collection, 87 % of its 150 MB limit: it will slow down, then die out of memory; give the process more heap (NODE_OPTIONS=--max-old-space-size=MB) or run fewer nodes",
  ]);
  w.observe("worker-1", { liveMB: 400, limitMB: 528 });
  expect(lines[1]).toMatch(/^worker thread 1: its JS heap holds 400 MB .* 83 % of its 480 MB limit/);
});

it("hears the workers' heaps with their lag, and the other threads' as they last reported", () => {
  const lines: string[] = [];
  // Limits of 100 MB of old generation beside the young generation this process's flags give.
  const limitMB = 100 + youngGenerationMB();
  let broker = { liveMB: 10, limitMB };
  const lag = new LagMonitor({ broker: () => ({ p99Ms: 1, maxMs: 2, heap: broker }) }, undefined, (l) =>
    lines.push(l),
  );
  lag.worker(0, 1, 2, 1, { liveMB: 50, limitMB });
  expect(lines).toEqual([]);
  broker = { liveMB: 95, limitMB };
  lag.worker(0, 1, 2, 1, { liveMB: 90, limitMB });
  lag.stop();
  expect(lines.map((l) => l.split(":")[0])).toEqual(["worker thread 0", "the embedded broker's thread"]);
});

it("finds the young generation in V8's limit from the process's flags", () => {
  expect(youngGenerationMB([], undefined)).toBe(48);
  expect(youngGenerationMB([], "--max-old-space-size=150 --max-semi-space-size=64")).toBe(192);
  expect(youngGenerationMB(["--max-semi-space-size=32"], "")).toBe(96);
});

it("reads the heap left after a full collection, and the thread's limit", async () => {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  const heap = new HeapLive();
  try {
    expect(heap.read().limitMB).toBeGreaterThan(0);
    gc();
    // The collector's entry is delivered after the collection, as a task of its own.
    for (let i = 0; i < 500 && heap.read().liveMB === undefined; i++)
      await new Promise((r) => setTimeout(r, 10));
    const r = heap.read();
    expect(r.liveMB).toBeGreaterThan(0);
    expect(r.liveMB).toBeLessThan(r.limitMB);
  } finally {
    heap.stop();
  }
});

it("a process of one thread looks at its own heap after each full collection and tells it once near its limit", () => {
  const lines: string[] = [];
  let collected: (r: HeapReading) => void = () => {};
  let stopped = false;
  const w = watchOwnHeap(
    "twins",
    (l) => lines.push(l),
    (onMajor) => {
      collected = onMajor;
      return {
        stop: () => {
          stopped = true;
        },
      };
    },
  );
  const limitMB = 40 + youngGenerationMB();
  collected({ liveMB: 10, limitMB });
  expect(lines).toEqual([]);
  collected({ liveMB: 36, limitMB });
  collected({ liveMB: 38, limitMB });
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(
    /^the twins service: its JS heap holds 36 MB after a full collection, 90 % of its 40 MB limit/,
  );
  w.stop();
  expect(stopped).toBe(true);
});
