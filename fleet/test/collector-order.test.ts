// The collector's reorder window: events from several threads arrive out of time order in batches
// and are handled in time order, only once they are older than the drain's cutoff.
import { describe, expect, it } from "vitest";
import { NodeId, type Stamp } from "../../protocol/index.js";
import { Collector } from "../collector.js";

const [A, B] = [NodeId("A"), NodeId("B")];
const st = (counter: number, origin: NodeId): Stamp => ({ counter, origin });

describe("Collector drain", () => {
  it("handles a follower's update after the press that caused it, whatever order they came in", () => {
    const c = new Collector(new Map([[A, [B]]]));
    // B's thread sent its update before A's thread sent the press.
    c.push([{ type: "applied", node: B, at: 120, stamp: st(1, A), on: true, via: "report" }]);
    c.push([{ type: "press", node: A, at: 100, ledAt: 100, stamp: st(1, A) }]);
    c.drain(200);
    const n = c.checker.counts();
    expect(n.deliveries).toBe(1);
    expect(c.checker.pairs().latencyMs).toEqual([20]);
  });

  it("keeps what is younger than the cutoff for a later drain, still in order", () => {
    const c = new Collector(new Map([[A, [B]]]));
    c.push([
      { type: "press", node: A, at: 100, ledAt: 100, stamp: st(1, A) },
      { type: "applied", node: B, at: 400, stamp: st(2, A), on: true, via: "report" },
    ]);
    c.drain(200);
    expect(c.checker.counts()).toMatchObject({ presses: 1, deliveries: 0, pending: 1 });
    // Arrives late, but happened before the update already waiting in the buffer.
    c.push([{ type: "press", node: A, at: 300, ledAt: 300, stamp: st(2, A) }]);
    c.drain(500);
    expect(c.checker.counts()).toMatchObject({ presses: 2, deliveries: 2, pending: 0 });
    expect(c.checker.pairs().latencyMs).toEqual([300, 100]);
  });

  it("handles events in time order, equal times in the order they came, however late they came", () => {
    const seen: string[] = [];
    const c = new Collector(new Map([[A, [B]]]), 5000, {
      press: (node, stamp, at) => seen.push(`${node}${stamp?.counter} ${at}`),
      applied: () => {},
    });
    const press = (node: NodeId, counter: number, at: number) =>
      ({ type: "press", node, at, ledAt: at, stamp: st(counter, node) }) as const;
    c.push([press(A, 1, 100), press(A, 2, 300), press(A, 3, 300), press(A, 4, 500)]);
    c.push([press(B, 1, 300), press(B, 2, 50), press(B, 3, 500), press(B, 4, 400)]);
    c.drain(450);
    c.push([press(B, 5, 400), press(B, 6, 500)]);
    c.drain();
    expect(seen).toEqual([
      "B2 50",
      "A1 100",
      "A2 300",
      "A3 300",
      "B1 300",
      "B4 400",
      "B5 400",
      "A4 500",
      "B3 500",
      "B6 500",
    ]);
  });

  it("handles the same order as a stable sort of everything queued, near or far out of order", () => {
    // A seeded walk: mostly small steps back (a node's CPU time), sometimes a whole batch far back.
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const seen: string[] = [];
    const c = new Collector(new Map(), 5000, {
      press: (node, stamp, at) => seen.push(`${node}${stamp?.counter} ${at}`),
      applied: () => {},
    });
    const queued: { key: string; at: number }[] = [];
    const expected: string[] = [];
    const drainModel = (cutoff: number): void => {
      const sorted = [...queued].sort((a, b) => a.at - b.at);
      const out = sorted.filter((q) => q.at <= cutoff);
      expected.push(...out.map((q) => q.key));
      queued.splice(0, queued.length, ...sorted.filter((q) => q.at > cutoff));
    };
    let clock = 0;
    let n = 0;
    for (let round = 0; round < 40; round++) {
      const batch = [];
      const far = rand(5) === 0;
      for (let k = rand(120); k > 0; k--) {
        clock += rand(4);
        const at = far ? clock - 200 - rand(50) : clock - rand(6);
        n++;
        batch.push({ type: "press", node: A, at, ledAt: at, stamp: st(n, A) } as const);
        queued.push({ key: `A${n} ${at}`, at });
      }
      c.push(batch);
      const cutoff = clock - 100;
      c.drain(cutoff);
      drainModel(cutoff);
    }
    c.drain();
    drainModel(Number.POSITIVE_INFINITY);
    expect(seen.length).toBe(n);
    expect(seen).toEqual(expected);
  });

  it("puts an event from thousands of queued ones back in its place too", () => {
    const seen: number[] = [];
    const c = new Collector(new Map(), 5000, {
      press: (_node, stamp) => seen.push(stamp?.counter ?? -1),
      applied: () => {},
    });
    const press = (counter: number, at: number) =>
      ({ type: "press", node: A, at, ledAt: at, stamp: st(counter, A) }) as const;
    const events = Array.from({ length: 6000 }, (_, i) => press(i, 1000 + i));
    c.push(events);
    // Far back, then near the front, then back in order, then a few places back.
    c.push([press(6000, 500), press(6001, 1002), press(6002, 9000), press(6003, 6990)]);
    c.drain(5000);
    c.push([press(6004, 700)]);
    c.drain();
    // A stable sort of what was queued, at each drain.
    const byTime = (xs: readonly ReturnType<typeof press>[]) => [...xs].sort((a, b) => a.at - b.at);
    const queued = byTime([
      ...events,
      press(6000, 500),
      press(6001, 1002),
      press(6002, 9000),
      press(6003, 6990),
    ]);
    const first = queued.filter((e) => e.at <= 5000);
    const second = byTime([...queued.filter((e) => e.at > 5000), press(6004, 700)]);
    expect(seen).toEqual([...first, ...second].map((e) => e.stamp.counter));
    expect(seen.slice(0, 3)).toEqual([6000, 0, 1]);
    expect(seen.slice(first.length, first.length + 3)).toEqual([6004, 4001, 4002]);
    expect(seen.indexOf(6003)).toBe(seen.indexOf(5990) + 1);
    expect(seen.slice(-1)).toEqual([6002]);
  });
});
