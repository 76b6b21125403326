// The fleet's collector judges regressions per node in the order the node did things, not in the
// order of the events' timestamps; the watch it feeds is tested in sim/test/regressions.test.ts.
import { describe, expect, it } from "vitest";
import { NodeId, type Stamp } from "../../protocol/index.js";
import { Collector } from "../collector.js";

const [A, B] = [NodeId("A"), NodeId("B")];
const st = (counter: number, origin: NodeId): Stamp => ({ counter, origin });

describe("Collector regressions", () => {
  it("follows each node's own order: a press that interrupts a loop job stamped later is no regression", () => {
    const c = new Collector(new Map([[A, [B]]]));
    // The loop job read B's report at 100 and wrote the LED at 100.8; the button interrupt came at
    // 100.5, in the middle of it, and took the next stamp. Sorted by time the press comes first.
    c.push([
      { type: "applied", node: A, at: 100.8, stamp: st(3, B), on: true, via: "report" },
      { type: "press", node: A, at: 100.5, ledAt: 100.6, stamp: st(4, A) },
    ]);
    c.finish();
    expect(c.regressions.count).toBe(0);
  });

  it("counts a node that syncs back to an older state after a power cut", () => {
    const c = new Collector(new Map());
    c.push([
      { type: "press", node: A, at: 10, ledAt: 10, stamp: st(1, A) },
      { type: "boot", node: A, at: 20 },
      { type: "synced", node: A, at: 1600, stamp: st(0, A) },
    ]);
    c.finish();
    expect(c.regressions.list).toEqual([{ node: A, at: 1600, held: st(1, A), now: st(0, A) }]);
  });
});
