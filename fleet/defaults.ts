/**
 * Every default of a fleet run, in one place (fleet/options.ts checks and fills in the options with
 * them). A module of its own, with nothing but types from the options, so that `twinfleet sim --help`
 * can state the defaults without loading the option checks.
 */
import { availableParallelism } from "node:os";
import type { FleetOptions, UnsetFields } from "./options.js";

/** Every default of a fleet run, in one place. */
export const DEFAULTS: Readonly<Required<Omit<FleetOptions, UnsetFields>>> = Object.freeze({
  nodes: 300,
  profile: "uno-w5100",
  topology: "ring",
  groupSize: 8,
  follows: 2,
  ratePerNodePerMin: 1,
  lossPct: 0,
  lossMode: "model",
  seed: "twinfleet",
  durationS: 60,
  settleS: 10,
  workers: Math.max(1, Math.min(4, availableParallelism())),
  prefix: "tf",
  idBase: "n",
  progressEveryS: 5,
  pressesEndEarlyS: 0,
  faults: [],
  brokerProcess: false,
  fresh: false,
  clock: "real",
  twins: true,
});
