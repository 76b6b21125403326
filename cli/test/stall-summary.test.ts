// A run whose own process was stopped (SIGSTOP, a paused VM) tells the stop as its own stall, with
// the presses that came due in it, and not as the broker lost (docs/scale.md, "The run's own stall").
import { expect, it } from "vitest";
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
    "stalled        the run did not run for 20.0 s at 31.2 s (its host stopped or paused it): what it saw then is its own stall, not the broker's (its connection to the broker lost and back); 27 nodes disconnected, recovered after 1.3 s, re-registered max 1.3 s; 206 presses came due meanwhile and fired together when it ran again, as a frozen host's boards would, 230 presses ignored as bounces then; 0 pairs later than 5 s",
  );
  expect(s).not.toMatch(/^ +broker lost /m);
});
