/**
 * A schedule whose fault windows cover every press (a partition from 0 s, longer than the presses):
 * no (press, follower) pair is outside them, so the sync latency the requirement judges was not
 * measured. The summary said `ok sync latency p50 0.0 ms … p99 0.0 ms (… outside the fault windows:
 * 0 pairs)`, figures no pair had, and `--assert` passed on them.
 */
import { expect, it } from "vitest";
import { requirementFailures } from "../../fleet/report.js";
import { FleetRun } from "../../fleet/run.js";
import { NodeId } from "../../protocol/index.js";
import { summary } from "../sim-summary.js";

/** 8 nodes for 20 s on virtual time, node n-0001 partitioned from `atS` for `forS`. */
async function partitioned(atS: number, forS: number) {
  const run = await FleetRun.start({
    clock: "virtual",
    nodes: 8,
    topology: "ring",
    groupSize: 4,
    ratePerNodePerMin: 12,
    durationS: 20,
    settleS: 2,
    profile: "uno-w5100",
    faults: [{ kind: "partition", atS, forS, nodes: [NodeId("n-0001")] }],
    faultsSpec: "test",
  });
  return run.done;
}

it("says the sync latency outside the faults was not measured when every pair is inside one", async () => {
  const r = await partitioned(0, 30);
  expect(r.deliveries).toBeGreaterThan(0);
  expect(r.syncOutsideFaults?.count).toBe(0);
  expect(r.requirements.syncP99Under1s).toBe(false);
  expect(requirementFailures(r)).toContain(
    "sync latency not measured: every (press, follower) pair overlapped a fault's window, none is outside them (start the faults later, or give the presses more --duration after them)",
  );
  expect(summary(r)).toContain(
    "FAIL sync latency   not measured: every pair overlapped a fault's window  (< 1 s, outside the fault windows: 0 pairs)",
  );
}, 60_000);

it("judges the pairs outside the faults when there are some", async () => {
  const r = await partitioned(2, 3);
  expect(r.syncOutsideFaults?.count).toBeGreaterThan(0);
  expect(r.requirements.syncP99Under1s).toBe(true);
  expect(summary(r)).toMatch(/ok {3}sync latency {3}p50 \d+\.\d ms/);
}, 60_000);
