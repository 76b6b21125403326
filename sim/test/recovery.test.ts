// The fault analysis on scripted timelines: recovery from the fault's end, the window a fault
// stretches over, which pairs belong to it, and the latency outside every window.
import { describe, expect, it } from "vitest";
import { NodeId, type Stamp } from "../../protocol/index.js";
import { SyncChecker } from "../checker.js";
import { analyzeFaults, type FaultSpan, NodeTimeline } from "../recovery.js";
import { followersReach } from "../topology.js";

const [A, B, C, D] = [NodeId("A"), NodeId("B"), NodeId("C"), NodeId("D")];
const st = (counter: number, origin: NodeId): Stamp => ({ counter, origin });
const fleet = [A, B, C, D];
/** A and B follow each other; C and D follow each other. */
const reach = followersReach(
  new Map([
    [A, [B]],
    [B, [A]],
    [C, [D]],
    [D, [C]],
  ]),
);

/** C follows B follows A (and D follows nobody). */
const chainReach = followersReach(
  new Map([
    [B, [A]],
    [C, [B]],
  ]),
);
function analyze(c: SyncChecker, tl: NodeTimeline, faults: FaultSpan[], endMs = 100_000, pairs = reach) {
  c.finish();
  return analyzeFaults({
    faults,
    fleet,
    reach: pairs,
    timeline: tl,
    pairs: c.pairs(),
    slow: c.slow,
    pressTimes: c.pressTimes,
    endMs,
  });
}

describe("analyzeFaults", () => {
  it("a broker restart: recovered when the last node registered and the last slow press arrived", () => {
    const c = new SyncChecker(reach);
    const tl = new NodeTimeline();
    const fault: FaultSpan = { kind: "broker-restart", startMs: 10_000, endMs: 15_000, nodes: undefined };
    for (const n of fleet) tl.disconnected(n, 10_000);
    tl.registered(A, 17_000);
    tl.registered(B, 18_500);
    tl.registered(C, 19_000);
    tl.registered(D, 20_000); // the slowest node is back 5 s after the broker
    c.press({ node: A, stamp: st(1, A), at: 1000 }); // before: fast
    c.applied({ node: B, stamp: st(1, A), at: 1010 });
    c.press({ node: C, stamp: st(1, C), at: 12_000 }); // held while down, reaches D at 21 s
    c.applied({ node: D, stamp: st(1, C), at: 21_000 });
    c.press({ node: A, stamp: st(2, A), at: 30_000 }); // after: fast
    c.applied({ node: B, stamp: st(2, A), at: 30_008 });
    const r = analyze(c, tl, [fault]);
    expect(r.outcomes[0]).toEqual({
      nodes: 4,
      recoveryMs: 6000,
      disconnected: 4,
      reregisteredMaxMs: 5000,
      offlineDetectedMaxMs: null,
      pressesDuring: 1,
      lateBeyond5s: 1,
      lostForGood: 0,
      windowEndMs: 21_000,
    });
    // Outside the window: the two fast pairs only.
    expect(r.outside.count).toBe(2);
    expect(r.outside.max).toBeCloseTo(10, 1);
    expect(r.lostOutside).toBe(0);
  });

  it("a pair in flight when the fault starts belongs to it", () => {
    const c = new SyncChecker(reach);
    const tl = new NodeTimeline();
    c.press({ node: A, stamp: st(1, A), at: 9900 }); // pressed 100 ms before the kill
    c.applied({ node: B, stamp: st(1, A), at: 16_000 });
    const r = analyze(c, tl, [{ kind: "broker-restart", startMs: 10_000, endMs: 15_000, nodes: undefined }]);
    expect(r.outcomes[0]?.lateBeyond5s).toBe(1);
    expect(r.outcomes[0]?.recoveryMs).toBe(1000);
    expect(r.outside.count).toBe(0);
    expect(r.lostOutside).toBe(0);
  });

  it("a pair never delivered: lost for good, and the fleet never recovered", () => {
    const c = new SyncChecker(reach);
    const tl = new NodeTimeline();
    c.press({ node: C, stamp: st(1, C), at: 12_000 });
    const r = analyze(c, tl, [{ kind: "partition", startMs: 10_000, endMs: 20_000, nodes: [D] }], 50_000);
    expect(r.outcomes[0]).toMatchObject({ recoveryMs: null, lostForGood: 1, windowEndMs: 50_000 });
  });

  it("a partition of some nodes: only pairs touching them stretch it; offline detection is timed", () => {
    const c = new SyncChecker(reach);
    const tl = new NodeTimeline();
    tl.wentOffline(C, 32_500); // the broker's keepalive noticed 22.5 s in
    tl.disconnected(C, 40_000);
    tl.registered(C, 72_000);
    c.press({ node: A, stamp: st(1, A), at: 20_000 }); // A and B are not partitioned: slow, but not ours
    c.applied({ node: B, stamp: st(1, A), at: 22_000 });
    c.press({ node: D, stamp: st(1, D), at: 30_000 }); // D's press waits for C's return
    c.applied({ node: C, stamp: st(1, D), at: 72_500 });
    const r = analyze(c, tl, [{ kind: "partition", startMs: 10_000, endMs: 70_000, nodes: [C] }]);
    expect(r.outcomes[0]).toMatchObject({
      nodes: 1,
      disconnected: 1,
      reregisteredMaxMs: 2000,
      offlineDetectedMaxMs: 22_500,
      recoveryMs: 2500,
      lateBeyond5s: 1,
      lostForGood: 0,
      pressesDuring: 2,
    });
    // A→B happened during the window in time, so it is not counted outside either.
    expect(r.outside.count).toBe(0);
  });

  it("a broker restart inside a partition: the cut-off node's return and pairs are the partition's", () => {
    const c = new SyncChecker(reach);
    const tl = new NodeTimeline();
    const partition: FaultSpan = { kind: "partition", startMs: 5000, endMs: 65_000, nodes: [C] };
    const restart: FaultSpan = { kind: "broker-restart", startMs: 15_000, endMs: 20_000, nodes: undefined };
    for (const n of [A, B, D]) tl.disconnected(n, 15_000);
    tl.disconnected(C, 35_000); // its own keepalive, behind the pulled cable
    for (const n of [A, B, D]) tl.registered(n, 21_000);
    tl.registered(C, 66_000);
    c.press({ node: A, stamp: st(1, A), at: 16_000 }); // held by the restart only
    c.applied({ node: B, stamp: st(1, A), at: 21_500 });
    c.press({ node: D, stamp: st(1, D), at: 16_000 }); // waits for C's cable
    c.applied({ node: C, stamp: st(1, D), at: 66_500 });
    const r = analyze(c, tl, [partition, restart]);
    expect(r.outcomes[1]).toMatchObject({
      nodes: 4,
      disconnected: 3,
      recoveryMs: 1500,
      reregisteredMaxMs: 1000,
      lateBeyond5s: 1,
      held: 1,
      heldBy: ["partition"],
    });
    expect(r.outcomes[0]).toMatchObject({ recoveryMs: 1500, reregisteredMaxMs: 1000, lateBeyond5s: 1 });
    expect(r.outcomes[0]?.held).toBeUndefined();
    // Alone, the restart's row took in the partition's length.
    expect(analyze(c, tl, [restart]).outcomes[0]).toMatchObject({ recoveryMs: 46_500, lateBeyond5s: 2 });
  });

  it("a broker restart the nodes are not back from when the power goes: the outage's", () => {
    const c = new SyncChecker(reach);
    const tl = new NodeTimeline();
    const restart: FaultSpan = { kind: "broker-restart", startMs: 10_000, endMs: 17_000, nodes: undefined };
    const outage: FaultSpan = { kind: "power-outage", startMs: 20_000, endMs: 25_000, nodes: undefined };
    for (const n of fleet) tl.disconnected(n, 10_000);
    tl.registered(A, 18_000); // back before the power went
    for (const n of [B, C, D]) tl.registered(n, 27_000);
    const r = analyze(c, tl, [restart, outage]);
    expect(r.outcomes[0]).toMatchObject({ recoveryMs: 1000, reregisteredMaxMs: 1000, held: 3 });
    expect(r.outcomes[0]?.heldBy).toEqual(["power-outage"]);
    // A loss step or a frozen client holds no one.
    const burst: FaultSpan = { kind: "loss", startMs: 20_000, endMs: 25_000, nodes: undefined };
    expect(analyze(new SyncChecker(reach), tl, [restart, burst]).outcomes[0]).toMatchObject({
      recoveryMs: 10_000,
    });
  });

  it("two faults ending at one instant: the one begun first holds, so nothing is counted in both rows", () => {
    const c = new SyncChecker(reach);
    const tl = new NodeTimeline();
    c.press({ node: A, stamp: st(1, A), at: 11_000 }); // held while down, reaches B at 22.5 s
    c.applied({ node: B, stamp: st(1, A), at: 22_500 });
    const restart: FaultSpan = { kind: "broker-restart", startMs: 10_000, endMs: 20_000, nodes: undefined };
    const outage: FaultSpan = { kind: "power-outage", startMs: 15_000, endMs: 20_000, nodes: undefined };
    for (const n of fleet) tl.disconnected(n, 10_000);
    for (const n of fleet) tl.registered(n, 22_000);
    const r = analyze(c, tl, [restart, outage]);
    expect(r.outcomes[0]).toMatchObject({ lateBeyond5s: 1 });
    expect(r.outcomes[0]?.held).toBeUndefined();
    expect(r.outcomes[1]).toMatchObject({ held: 4, heldBy: ["broker-restart"], lateBeyond5s: 0 });
    // Begun at one instant too: the first in the schedule holds.
    const same: FaultSpan = { ...outage, startMs: 10_000 };
    const r2 = analyze(new SyncChecker(reach), tl, [restart, same]);
    expect(r2.outcomes[0]?.held).toBeUndefined();
    expect(r2.outcomes[1]).toMatchObject({ held: 4, heldBy: ["broker-restart"] });
  });

  it("a power cut: every node hit must register again, one offline when the power went too", () => {
    const tl = new NodeTimeline();
    tl.disconnected(A, 5000); // lost its session before the power went, never back before it
    tl.disconnected(B, 10_000); // the power cut's own
    tl.registered(B, 13_000);
    const cut: FaultSpan = {
      kind: "power-outage",
      startMs: 10_000,
      endMs: 12_000,
      nodes: [A, B],
      reregisterAll: true,
    };
    expect(analyze(new SyncChecker(reach), tl, [cut]).outcomes[0]).toMatchObject({
      disconnected: 1,
      recoveryMs: null,
      reregisteredMaxMs: null,
    });
    tl.registered(A, 14_500);
    expect(analyze(new SyncChecker(reach), tl, [cut]).outcomes[0]).toMatchObject({
      disconnected: 1,
      recoveryMs: 2500,
      reregisteredMaxMs: 2500,
    });
  });

  it("a partition of a node already down (back from nothing yet): it is back once it has registered after", () => {
    const tl = new NodeTimeline();
    tl.registered(C, 1000);
    tl.disconnected(C, 10_000); // a broker restart's, not back when the cable is pulled
    tl.registered(C, 76_000); // back after the cable
    const partition: FaultSpan = { kind: "partition", startMs: 15_000, endMs: 75_000, nodes: [C] };
    expect(analyze(new SyncChecker(reach), tl, [partition]).outcomes[0]).toMatchObject({
      disconnected: 0,
      recoveryMs: 1000,
      reregisteredMaxMs: 1000,
    });
    // Back before the cable was pulled: nothing to wait for.
    tl.registered(C, 12_000);
    expect(analyze(new SyncChecker(reach), tl, [partition]).outcomes[0]).toMatchObject({
      recoveryMs: 0,
      reregisteredMaxMs: 0,
    });
  });

  it("a frozen client during a broker restart: the restart's lost sessions are the restart's", () => {
    const tl = new NodeTimeline();
    for (const n of fleet) tl.disconnected(n, 8000);
    for (const n of fleet) tl.registered(n, 14_000);
    const frozen: FaultSpan = { kind: "frozen-client", startMs: 5000, endMs: 35_000, nodes: undefined };
    const restart: FaultSpan = { kind: "broker-restart", startMs: 8000, endMs: 13_000, nodes: undefined };
    const r = analyze(new SyncChecker(reach), tl, [frozen, restart]);
    expect(r.outcomes[0]).toMatchObject({ held: 4, heldBy: ["broker-restart"] });
    expect(r.outcomes[1]).toMatchObject({ disconnected: 4, recoveryMs: 1000 });
    expect(r.outcomes[1]?.held).toBeUndefined();
  });

  it("a twins restart: every node must register with the new service, once the old one is killed", () => {
    const c = new SyncChecker(reach);
    const tl = new NodeTimeline();
    for (const n of fleet) tl.registered(n, 1000);
    tl.registered(A, 5200);
    tl.registered(B, 5300);
    tl.registered(C, 5400);
    const fault: FaultSpan = {
      kind: "twins-restart",
      startMs: 3000,
      endMs: 5000,
      nodes: undefined,
      reregisterAll: true,
    };
    expect(analyze(c, tl, [fault]).outcomes[0]).toMatchObject({ recoveryMs: null, reregisteredMaxMs: null });
    tl.registered(D, 5900);
    expect(analyze(new SyncChecker(reach), tl, [fault]).outcomes[0]).toMatchObject({
      recoveryMs: 900,
      reregisteredMaxMs: 900,
      disconnected: 0,
    });
    // Registered while the new service was still connecting (after the kill, before the fault's
    // end): back at the end.
    const early = new NodeTimeline();
    for (const n of fleet) early.registered(n, 1000);
    for (const n of fleet) early.registered(n, 4500);
    expect(analyze(new SyncChecker(reach), early, [fault]).outcomes[0]).toMatchObject({
      recoveryMs: 0,
      reregisteredMaxMs: 0,
    });
  });

  it("counts presses outside the windows that took more than 5 s as lost outside", () => {
    const c = new SyncChecker(reach);
    c.press({ node: A, stamp: st(1, A), at: 0 });
    c.applied({ node: B, stamp: st(1, A), at: 6000 });
    const r = analyze(c, new NodeTimeline(), []);
    expect(r.outcomes).toEqual([]);
    expect(r.lostOutside).toBe(1);
    expect(r.outside.count).toBe(0);
  });

  it("a pair held up by a partitioned node between its source and follower belongs to the fault", () => {
    const c = new SyncChecker(chainReach);
    const tl = new NodeTimeline();
    tl.disconnected(B, 12_000);
    tl.registered(B, 31_000);
    c.press({ node: A, stamp: st(1, A), at: 15_000 });
    c.applied({ node: B, stamp: st(1, A), at: 31_500 });
    c.applied({ node: C, stamp: st(1, A), at: 31_600 }); // C waited for B, the partitioned one
    const r = analyze(
      c,
      tl,
      [{ kind: "partition", startMs: 10_000, endMs: 30_000, nodes: [B] }],
      100_000,
      chainReach,
    );
    expect(r.outcomes[0]).toMatchObject({ lateBeyond5s: 2, recoveryMs: 1600, windowEndMs: 31_600 });
  });
});
