/**
 * The named fault presets of `--faults` (`broker-restart`, `power-outage`, …): one fault each. A
 * module of its own, with nothing but a type from the schedule (fleet/faults/schedule.ts parses and
 * checks schedules), so that `twinfleet sim --help` can list them without loading the checks.
 */
import type { FaultEntry } from "./schedule.js";

/** The presets: one fault each, at 20 s into the presses (`name@S` moves it to S s). */
export const FAULT_PRESETS: Readonly<Record<string, { about: string; entry: FaultEntry }>> = {
  "broker-restart": {
    about: "the broker is killed (no goodbye) and back on the same port and store 5 s later",
    entry: { kind: "broker-restart", atS: 20, downS: 5 },
  },
  "power-outage": {
    about: "every node loses power for 2 s, then all boot at once",
    entry: { kind: "power-outage", atS: 20, offS: 2, nodes: "all" },
  },
  partition: {
    about: "10 % of the nodes lose their network for 60 s (cables pulled)",
    entry: { kind: "partition", atS: 20, forS: 60, nodes: "10%" },
  },
  "loss-burst": {
    about: "25 % packet loss for 10 s",
    entry: { kind: "loss", atS: 20, pct: 25, forS: 10 },
  },
  "loss-step": {
    about: "the loss steps to 15 % and stays",
    entry: { kind: "loss", atS: 20, pct: 15 },
  },
  "twins-restart": {
    about: "the twins service is killed (no goodbye) and restarted from its store 2 s later",
    entry: { kind: "twins-restart", atS: 20, downS: 2 },
  },
  "frozen-client": {
    about: "a client subscribed to the whole fleet stops reading its socket for 30 s",
    entry: { kind: "frozen-client", atS: 10, forS: 30 },
  },
};
