// The checker's definitions on small fleets with known answers: sync latency, superseded, late,
// lost for good.
import { describe, expect, it } from "vitest";
import { NodeId, type Stamp } from "../../protocol/index.js";
import { SyncChecker } from "../checker.js";
import { buildPairing, followersReach } from "../topology.js";

const [A, B, C] = [NodeId("A"), NodeId("B"), NodeId("C")];
const st = (counter: number, origin: NodeId): Stamp => ({ counter, origin });

describe("SyncChecker", () => {
  it("times a chain hop by hop: C follows A follows B", () => {
    const t = new SyncChecker(
      followersReach(
        new Map([
          [A, [B]],
          [C, [A]],
        ]),
      ),
    );
    t.press({ node: B, stamp: st(1, B), at: 1000 });
    t.applied({ node: A, stamp: st(1, B), at: 1040 });
    t.applied({ node: C, stamp: st(1, B), at: 1100 });
    t.finish();
    expect(t.counts()).toEqual({
      presses: 1,
      deliveries: 2,
      within1s: 2,
      superseded: 0,
      lost: 0,
      late: 0,
      lostForGood: 0,
      lostWithPower: 0,
      pending: 0,
    });
    expect(t.latency.summary()).toMatchObject({ count: 2, max: 100 });
    expect(t.latency.percentile(50)).toBeCloseTo(40, 1);
  });

  it("counts a newer version as reflecting an older press", () => {
    const t = new SyncChecker(followersReach(new Map([[A, [B]]])));
    t.press({ node: B, stamp: st(1, B), at: 0 });
    t.press({ node: B, stamp: st(2, B), at: 10 });
    t.applied({ node: A, stamp: st(2, B), at: 30 });
    t.finish();
    expect(t.counts()).toMatchObject({ presses: 2, deliveries: 2, lost: 0 });
    expect(t.latency.summary().max).toBe(30);
  });

  it("in a cycle, every other member is a follower of each press", () => {
    const ring = followersReach(buildPairing([A, B, C], { kind: "ring", groupSize: 3 }));
    const t = new SyncChecker(ring);
    t.press({ node: A, stamp: st(1, A), at: 0 });
    t.applied({ node: B, stamp: st(1, A), at: 5 });
    t.applied({ node: C, stamp: st(1, A), at: 9 });
    t.applied({ node: A, stamp: st(1, A), at: 14 }); // the echo at the origin is not a delivery
    t.finish();
    expect(t.counts()).toMatchObject({ presses: 1, deliveries: 2, lost: 0 });
  });

  it("resolves a conflict: the losing press is reflected by the winner's newer stamp", () => {
    const t = new SyncChecker(
      followersReach(
        new Map([
          [A, [B]],
          [B, [A]],
        ]),
      ),
    );
    t.press({ node: A, stamp: st(1, A), at: 0 });
    t.press({ node: B, stamp: st(1, B), at: 1 });
    t.applied({ node: A, stamp: st(1, B), at: 20 });
    t.finish();
    // B's own press at t=1 carries (1,B) > (1,A): it reflects A's press at B after 1 ms. A takes B's
    // stamp at t=20: B's press reached A after 19 ms. Both nodes end on (1,B).
    expect(t.counts()).toMatchObject({ presses: 2, deliveries: 2, lost: 0 });
    expect(t.latency.summary().max).toBeCloseTo(19, 1);
    expect(t.latency.percentile(50)).toBeCloseTo(1, 1);
  });

  it("counts a delivery that never comes, or comes after 5 s, as lost", () => {
    const t = new SyncChecker(
      followersReach(
        new Map([
          [A, [B]],
          [C, [B]],
        ]),
      ),
    );
    t.press({ node: B, stamp: st(1, B), at: 0 });
    t.applied({ node: A, stamp: st(1, B), at: 5001 }); // partitioned past the limit
    t.sweep(6000);
    t.finish();
    expect(t.counts()).toMatchObject({ presses: 1, deliveries: 0, lost: 2, late: 1, lostForGood: 1 });
    expect(t.slow.map((p) => [p.follower, p.appliedAt])).toEqual([
      [A, 5001],
      [C, undefined],
    ]);
  });

  it("keeps an overdue pair open: it is late if it arrives, lost for good only at the end", () => {
    const t = new SyncChecker(followersReach(new Map([[A, [B]]])));
    t.press({ node: B, stamp: st(1, B), at: 0 });
    t.sweep(5500);
    expect(t.counts()).toMatchObject({ lost: 1, late: 0, lostForGood: 0, pending: 0 });
    t.applied({ node: A, stamp: st(1, B), at: 40_000 }); // after a minute-long partition
    t.finish();
    expect(t.counts()).toMatchObject({ deliveries: 0, lost: 1, late: 1, lostForGood: 0 });
    expect(t.pairs()).toEqual({ pressAt: [0], latencyMs: [40_000] });
  });

  it("times 1 s and 5 s as the limits: within1s, deliveries and the slow pairs", () => {
    const t = new SyncChecker(followersReach(new Map([[A, [B]]])));
    t.press({ node: B, stamp: st(1, B), at: 0 });
    t.applied({ node: A, stamp: st(1, B), at: 1000 }); // exactly 1 s: fast
    t.press({ node: B, stamp: st(2, B), at: 2000 });
    t.applied({ node: A, stamp: st(2, B), at: 3001 }); // just over: slow, still delivered
    t.press({ node: B, stamp: st(3, B), at: 10_000 });
    t.applied({ node: A, stamp: st(3, B), at: 15_000 }); // exactly 5 s: delivered
    t.finish();
    expect(t.counts()).toMatchObject({ deliveries: 3, within1s: 1, late: 0, lostForGood: 0 });
    expect(t.slow.map((p) => p.pressAt)).toEqual([2000, 10_000]);
  });

  it("marks a follower that already holds a newer stamp as superseded, latency 0", () => {
    const t = new SyncChecker(followersReach(new Map([[A, [B]]])));
    t.applied({ node: A, stamp: st(9, A), at: 0 });
    t.press({ node: B, stamp: st(3, B), at: 10 });
    expect(t.counts()).toMatchObject({ deliveries: 1, superseded: 1, pending: 0 });
  });
});
