/**
 * A run whose nodes are re-paired while it goes on (through its console or web page, which pair
 * through its twins service; or through a twins service it joined): each press is judged against the
 * pairing at the nodes when it happened, and the report and summary say the pairing changed. Before,
 * the run judged against its starting topology: n-0005 moved from n-0004 to n-0012 made it count
 * n-0004's later presses as lost to n-0005 and the nodes after it, and n-0005 as diverged.
 */
import { describe, expect, it } from "vitest";
import type { FleetOptions } from "../../fleet/options.js";
import type { Report } from "../../fleet/report.js";
import { FleetRun } from "../../fleet/run.js";
import { NodeId } from "../../protocol/index.js";
import { summary } from "../sim-summary.js";

const fleet: FleetOptions = {
  clock: "virtual",
  nodes: 16,
  topology: "ring",
  groupSize: 8,
  ratePerNodePerMin: 30,
  durationS: 30,
  settleS: 5,
  lossPct: 0,
  seed: "repaired",
};
const [MOVED, OLD, NEW] = [NodeId("n-0005"), NodeId("n-0004"), NodeId("n-0012")];

/** Runs the fleet, moving MOVED from OLD to NEW 5 s into the presses and calling `then` 3 s later. */
async function repairedRun(then: (run: FleetRun) => void = () => {}): Promise<{ run: FleetRun; r: Report }> {
  const run = await FleetRun.start(fleet);
  run.on("phase", (p) => {
    if (p !== "press") return;
    run.sched.at(run.pressStartMs + 5000, () => {
      void run.twins.pair(MOVED, NEW).then(() => run.twins.unpair(MOVED, OLD));
    });
    run.sched.at(run.pressStartMs + 8000, () => then(run));
  });
  return { run, r: await run.done };
}

describe("a run re-paired mid-run", () => {
  it("owes each press to the nodes paired when it happened and says the pairing changed", async () => {
    const { run, r } = await repairedRun();
    expect(r.presses).toBeGreaterThan(150);
    expect({ lost: r.lost, lostForGood: r.lostForGood, diverged: r.diverged }).toEqual({
      lost: 0,
      lostForGood: 0,
      diverged: 0,
    });
    // The twins' desire is the pairing at the nodes: every node paired as the run now judges it.
    expect(r.twinsView.desiredAsPaired).toBe(16);
    expect(r.pairingChanges).toMatchObject({ nodes: 1, changes: 2, differAtEnd: 1 });
    expect(r.pairingChanges?.list.at(-1)).toMatchObject({
      node: MOVED,
      follows: [NEW],
      followed: [OLD, NEW],
    });
    const at = r.pairingChanges?.firstAtMs ?? 0;
    expect(at).toBeGreaterThanOrEqual(5000);
    expect(at).toBeLessThan(6000);
    expect(summary(r)).toMatch(
      /\n {7}re-paired {6}1 node \(n-0005\), 2 changes from 5\.\d s to 5\.\d s; 1 node paired otherwise than the topology at the end/,
    );
    expect(run.collector.pairing?.get(MOVED)).toEqual([NEW]);
  }, 60_000);

  it("still counts as lost a press that did not reach a node paired when it happened", async () => {
    // MOVED's cable is pulled 3 s after the move, for good: NEW's later presses never reach it.
    const { run, r } = await repairedRun((run) => run.cable(MOVED, true));
    const lost = run.collector.checker.slow.filter((p) => p.appliedAt === undefined);
    const cut = run.pressStartMs + 8000;
    expect(lost.some((p) => p.source === NEW && p.follower === MOVED && p.pressAt > cut)).toBe(true);
    // OLD's presses after the move are owed to no one that left it.
    expect(lost.some((p) => p.source === OLD && p.pressAt > cut)).toBe(false);
    expect(r.lostForGood).toBe(lost.length);
    expect(r.pairingChanges?.nodes).toBe(1);
  }, 60_000);
});
