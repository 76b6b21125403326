// The checker's bounded memory: once no fault can have begun before a time, the pairs settled before
// it are kept only as a distribution, and the fault analysis reads the same as with every record kept.
import { describe, expect, it } from "vitest";
import { NodeId, type Stamp } from "../../protocol/index.js";
import { PRESS_TIMES_KEPT_MS, SyncChecker } from "../checker.js";
import { analyzeFaults, type FaultSpan, NodeTimeline } from "../recovery.js";
import { followersReach } from "../topology.js";

const [A, B] = [NodeId("A"), NodeId("B")];
const st = (counter: number, origin: NodeId): Stamp => ({ counter, origin });
const reach = followersReach(
  new Map([
    [A, [B]],
    [B, [A]],
  ]),
);

/** A press on B at 2 s that reaches A only at 9 s (late); presses on A every second, applied at B 10 ms later. */
function play(c: SyncChecker): void {
  c.press({ node: B, stamp: st(1, B), at: 2000 });
  c.applied({ node: A, stamp: st(1, B), at: 9000 });
  for (let k = 1; k <= 40; k++) {
    const at = k * 1000;
    c.press({ node: A, stamp: st(k + 1, A), at });
    c.applied({ node: B, stamp: st(k + 1, A), at: at + 10 });
  }
}

function analyze(c: SyncChecker, faults: FaultSpan[]) {
  c.finish();
  return analyzeFaults({
    faults,
    fleet: [A, B],
    reach,
    timeline: new NodeTimeline(),
    pairs: c.pairs(),
    slow: c.slow,
    pressTimes: c.pressTimes,
    early: c.early(),
    endMs: 100_000,
  });
}

describe("SyncChecker.noFaultBefore", () => {
  it("keeps no record of what settled before it, and the analysis is unchanged", () => {
    const fault: FaultSpan = { kind: "partition", startMs: 30_000, endMs: 31_000, nodes: [A] };
    const all = new SyncChecker(reach);
    play(all);
    const bounded = new SyncChecker(reach);
    bounded.noFaultBefore(25_000);
    play(bounded);
    // The late pair and the pairs of presses 1..24 s settled before 25 s: not kept.
    expect(bounded.pairs().pressAt.length).toBe(all.pairs().pressAt.length - 25);
    // Press times are kept PRESS_TIMES_KEPT_MS longer: here all of them.
    expect(bounded.pressTimes).toEqual(all.pressTimes);
    expect(bounded.slow.length).toBe(all.slow.length - 1);
    expect(bounded.counts()).toEqual(all.counts());
    const a = analyze(all, [fault]);
    const b = analyze(bounded, [fault]);
    expect(b).toEqual(a);
    expect(b.lostOutside).toBe(1);
    expect(b.outside.count).toBe(all.pairs().pressAt.length - 1 - 2);
  });

  it("keeps the press times of the last 30 s before it, so an outage noticed late counts its presses", () => {
    // A broker gone silent at 10 s, noticed at 25 s: the presses from 10 s on are the outage's.
    const outage: FaultSpan = { kind: "broker-lost", startMs: 10_000, endMs: 35_000, nodes: undefined };
    const all = new SyncChecker(reach);
    play(all);
    const bounded = new SyncChecker(reach);
    for (let t = 0; t <= 25_000; t += 100) bounded.noFaultBefore(t);
    play(bounded);
    const during = (c: SyncChecker) => analyze(c, [outage]).outcomes[0]?.pressesDuring;
    expect(during(bounded)).toBe(during(all));
    expect(during(bounded)).toBe(26);
    // Older ones go, in one go once they are many.
    const c = new SyncChecker(reach);
    for (let k = 0; k < 10_000; k++) c.press({ node: A, stamp: st(k + 1, A), at: k });
    c.noFaultBefore(PRESS_TIMES_KEPT_MS + 5000);
    expect(c.pressTimes).toEqual([...Array(5000).keys()].map((k) => k + 5000));
  });

  it("keeps a pair settled after it, and a pair never settled", () => {
    const c = new SyncChecker(reach);
    c.press({ node: A, stamp: st(1, A), at: 1000 });
    c.noFaultBefore(1500);
    c.applied({ node: B, stamp: st(1, A), at: 2000 }); // settles after 1.5 s: kept
    c.press({ node: B, stamp: st(1, B), at: 1200 }); // never reaches A: kept at finish
    c.finish();
    expect(c.pairs().pressAt).toEqual([1000, 1200]);
    expect(c.early().latency.count).toBe(0);
  });

  it("only moves forward", () => {
    const c = new SyncChecker(reach);
    c.noFaultBefore(5000);
    c.noFaultBefore(1000);
    c.press({ node: A, stamp: st(1, A), at: 2000 });
    c.applied({ node: B, stamp: st(1, A), at: 2010 });
    expect(c.pairs().pressAt).toEqual([]);
    expect(c.early().latency.count).toBe(1);
  });
});

describe("SyncChecker.settleBefore", () => {
  it("keeps no record of what settled before it, in a window or outside, and the analysis is unchanged", () => {
    // A fault hitting A from 3 s to 4 s: the late press on B (2 s → 9 s) stretches its window to 9 s.
    const fault: FaultSpan = { kind: "partition", startMs: 3000, endMs: 4000, nodes: [A] };
    const all = new SyncChecker(reach);
    play(all);
    const a = analyze(all, [fault]);
    expect(a.outcomes[0]?.windowEndMs).toBe(9000);
    const bounded = new SyncChecker(reach);
    play(bounded);
    const windows = [{ from: 3000, to: 9000 }];
    bounded.settleBefore(30_000, windows, windows);
    // Kept: the pairs settled from 30 s on, the slow pair of the window, the window's and later press times.
    expect(bounded.pairs().pressAt).toEqual([...Array(11).keys()].map((k) => (k + 30) * 1000));
    expect(bounded.slow.map((p) => p.pressAt)).toEqual([2000]);
    expect(bounded.pressTimes).toEqual(all.pressTimes.filter((t) => (t >= 3000 && t <= 9000) || t >= 30_000));
    expect(bounded.counts()).toEqual(all.counts());
    const b = analyze(bounded, [fault]);
    expect(b).toEqual(a);
    expect(b.outside.count).toBe(40 - 7);
  });
});
