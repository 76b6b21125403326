// A run whose own process was stopped (SIGSTOP, a paused VM) tells the stop as its own stall, with
// the presses that came due in it, and not as the broker lost (docs/scale.md, "The run's own stall").
import { expect, it } from "vitest";
import { requirementFailures } from "../../fleet/requirements.js";
import { mergeShards } from "../../fleet/shard-merge.js";
import type { StallReport } from "../../fleet/stall-report.js";
import { fleetOfTwo } from "../../fleet/test/ring-of-four.js";
import { summary } from "../sim-summary.js";

it("tells the run's own stall, its disconnects and the presses that came due in it", () => {
  const stall: StallReport = {
    atMs: 31_200,
    durationMs: 20_000,
    brokerLost: true,
    pressesIgnored: 230,
    nodes: 200,
    recoveryMs: 1279.7,
    disconnected: 27,
    reregisteredMaxMs: 1279.7,
    offlineDetectedMaxMs: null,
    pressesDuring: 206,
    lateBeyond5s: 0,
    lostForGood: 0,
  };
  const s = summary({ ...mergeShards(["a", "b"], fleetOfTwo()), stalls: [stall] });
  expect(s).toContain(
    "stalled        the run did not run for 20.0 s at 31.2 s (its host stopped or paused it): what it saw then is its own stall, not the broker's (its connection to the broker lost and back); 27 nodes disconnected, recovered after 1.3 s, re-registered max 1.3 s; 206 presses made from its start until 3 s after it (those that came due meanwhile fired together when it ran again, as a frozen host's boards would), 230 presses ignored as bounces then; 0 pairs later than 5 s",
  );
  expect(s).not.toMatch(/^ +broker lost /m);
});

it("tells the pairs later than 5 s that were a press in flight when the run stopped as the stall's", () => {
  const stall: StallReport = {
    atMs: 31_200,
    durationMs: 20_000,
    brokerLost: false,
    pressesIgnored: 0,
    nodes: 200,
    recoveryMs: null,
    disconnected: 0,
    reregisteredMaxMs: null,
    offlineDetectedMaxMs: null,
    pressesDuring: 3,
    lateBeyond5s: 7,
    lostForGood: 0,
  };
  const base = mergeShards(["a", "b"], fleetOfTwo());
  const r = {
    ...base,
    lost: 9,
    late: 9,
    lostForGood: 0,
    lostOutsideFaults: 9,
    requirements: { ...base.requirements, nothingLost: false },
    stalls: [stall],
  };
  expect(summary(r)).toContain(
    "FAIL lost           9 later than 5 s (9 late, 0 lost for good, 7 of them in the run's own stall (not run for 20.0 s))",
  );
  expect(requirementFailures(r)).toContain(
    "9 (press, follower) deliveries not reflected within 5 s; 7 of them in the run's own stall (not run for 20.0 s)",
  );
  // A shard's stall in a merged report is named as the shard's.
  expect(summary({ ...r, stalls: [{ ...stall, shard: 2 }] })).toContain(
    "7 of them in shard 2's own stall (not run for 20.0 s)",
  );
  // No pair of the stall's: nothing said.
  expect(summary({ ...r, stalls: [{ ...stall, lateBeyond5s: 0 }] })).not.toContain("own stall (");
});
