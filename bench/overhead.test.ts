/**
 * The overhead benchmark's baseline runs the fleet's own plan (ids, pairing, presses).
 */
import { describe, expect, it } from "vitest";
import { resolveFleetOptions } from "../fleet/options.js";
import { planFleet } from "../fleet/setup.js";
import { baselinePlan } from "./overhead.js";
import { ringFleetOptions } from "./ring-fleet.js";

describe("the overhead benchmark's baseline", () => {
  it("runs the fleet's own node ids and pairing, so each node draws the same press stream on both sides", () => {
    const opts = ringFleetOptions({
      nodes: 40,
      profile: "ideal",
      groupSize: 8,
      ratePerNodePerMin: 6,
      durationS: 3,
      seed: "overhead",
    });
    const fleet = planFleet(resolveFleetOptions(opts));
    const baseline = baselinePlan(opts);
    expect(baseline.ids).toEqual(fleet.ids);
    expect([...baseline.pairing]).toEqual([...fleet.pairing]);
  });
});
