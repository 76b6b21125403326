/**
 * The fleet the latency benchmarks compare: rings of K nodes, seeded Poisson presses at a rate, for a
 * duration — and its options for a wall-time fleet run.
 */
import type { FleetOptions } from "../fleet/options.js";

export interface RingFleet {
  readonly nodes: number;
  readonly profile: string;
  readonly groupSize: number;
  readonly ratePerNodePerMin: number;
  readonly durationS: number;
  readonly seed: string;
}

/** A fleet run of `f` on the embedded broker, settling 5 s after the presses. */
export function ringFleetOptions(f: RingFleet): FleetOptions {
  return {
    nodes: f.nodes,
    profile: f.profile,
    topology: "ring",
    groupSize: f.groupSize,
    ratePerNodePerMin: f.ratePerNodePerMin,
    durationS: f.durationS,
    settleS: 5,
    seed: f.seed,
  };
}
