/**
 * The pairs owed to a board switched off mid-run and not back by the end: the summary's lost line and
 * `--assert` say whose they were. They used to say `26 lost for good` alone, which read as the fleet
 * losing them (docs/metrics.md, "Boards and stand-ins beside the fleet").
 */
import { expect, it } from "vitest";
import { requirementFailures } from "../../fleet/report.js";
import { FleetRun } from "../../fleet/run.js";
import { summary } from "../sim-summary.js";

it("names the boards offline at the end that the pairs lost for good were owed to", async () => {
  const run = await FleetRun.start({
    clock: "virtual",
    nodes: 4,
    topology: "ring",
    groupSize: 4,
    ratePerNodePerMin: 6,
    durationS: 5,
    settleS: 1,
    profile: "uno-w5100",
  });
  const done = await run.done;
  expect(done.lostAtNodesAway).toBeUndefined();
  const r = { ...done, lost: 26, lostForGood: 26, lostAtNodesAway: { pairs: 26, nodes: ["h-2"] } };
  expect(summary(r)).toContain("(0 late, 26 lost for good, 26 of them owed to h-2, offline at the end)");
  expect(requirementFailures(r)).toContain(
    "26 (press, follower) deliveries lost for good (never reflected; 26 of them owed to h-2, offline at the end (switched off?))",
  );
}, 60_000);
