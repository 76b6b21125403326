// Regressions: a node's state going back to an older stamp than it held, judged per node in the
// order the node did things — and not fooled by timestamps out of that order.
import { describe, expect, it } from "vitest";
import { Collector } from "../../fleet/collector.js";
import { NodeId, type Stamp } from "../../protocol/index.js";
import { RegressionWatch } from "../regressions.js";

const [A, B] = [NodeId("A"), NodeId("B")];
const st = (counter: number, origin: NodeId): Stamp => ({ counter, origin });

describe("RegressionWatch", () => {
  it("counts a regression once when a node comes back older than it was, and clears on catching up", () => {
    const w = new RegressionWatch();
    w.holds(B, st(4, B), 0);
    w.holds(B, st(0, B), 3000); // rebooted; the broker had lost the retained report
    w.holds(B, st(2, A), 3100); // still behind what it held: the same regression
    expect(w.count).toBe(1);
    expect(w.list[0]).toEqual({ node: B, at: 3000, held: st(4, B), now: st(0, B) });
    w.holds(B, st(5, B), 4000); // ahead again
    w.holds(B, st(5, B), 9000); // a reboot that got its state back: fine
    w.holds(B, st(3, B), 12_000);
    expect(w.count).toBe(2);
  });

  it("a reboot that gets its state back from the broker is no regression", () => {
    const w = new RegressionWatch();
    w.holds(A, st(7, A), 0);
    w.holds(A, st(7, A), 2500);
    expect(w.count).toBe(0);
  });
});

describe("Collector regressions", () => {
  it("follows each node's own order: a press that interrupts a loop job stamped later is no regression", () => {
    const c = new Collector(new Map([[A, [B]]]));
    // The loop job read B's report at 100 and wrote the LED at 100.8; the button interrupt came at
    // 100.5, in the middle of it, and took the next stamp. Sorted by time the press comes first.
    c.push([
      { type: "applied", node: "A", at: 100.8, stamp: st(3, B), on: true, via: "report" },
      { type: "press", node: "A", at: 100.5, ledAt: 100.6, stamp: st(4, A) },
    ]);
    c.finish();
    expect(c.regressions.count).toBe(0);
  });

  it("counts a node that syncs back to an older state after a power cut", () => {
    const c = new Collector(new Map());
    c.push([
      { type: "press", node: "A", at: 10, ledAt: 10, stamp: st(1, A) },
      { type: "boot", node: "A", at: 20 },
      { type: "synced", node: "A", at: 1600, stamp: st(0, A) },
    ]);
    c.finish();
    expect(c.regressions.list).toEqual([{ node: A, at: 1600, held: st(1, A), now: st(0, A) }]);
  });
});
