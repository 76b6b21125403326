// Regressions: a node's state going back to an older stamp than it held, judged per node in the
// order the node did things — and not fooled by timestamps out of that order.
import { describe, expect, it } from "vitest";
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
