/**
 * What a fleet run on virtual time cannot do, as option problems: a real broker and what goes with
 * it (its process, its store, logins, clearing it), the twins service's store (a file), worker
 * threads with faults (a split run's parts cannot share one), the fault that needs a real client
 * socket, and a twins restart in a run without twins.
 */
import type { FaultEntry } from "./faults/schedule.js";
import type { FleetOptionIssue } from "./option-errors.js";
import type { ResolvedFleetOptions } from "./options.js";

/** Options that need real time: a real broker, its store, logins, and the twins service's faults. */
const REAL_ONLY = [
  "broker",
  "brokerProcess",
  "brokerData",
  "twinsData",
  "fresh",
  "login",
  "nodePassword",
] as const;
/** Faults that act on what a virtual run does not have: a real client socket (and, without twins, a twins service). */
const REAL_ONLY_FAULTS: ReadonlySet<string> = new Set(["frozen-client"]);

export function virtualIssues(
  o: ResolvedFleetOptions,
  faults: readonly FaultEntry[],
  workers: boolean,
): FleetOptionIssue[] {
  const issues: FleetOptionIssue[] = [];
  if (workers && faults.length > 0)
    issues.push({
      field: "workers",
      text: (n) =>
        `faults act on the whole fleet at once: a ${n("clock")} virtual run with ${n("faults")} runs in one thread (leave out ${n("workers")})`,
    });
  for (const field of REAL_ONLY) {
    const v = o[field];
    if (v === undefined || v === false) continue;
    issues.push({
      field,
      text: (n) =>
        `needs real time (a real broker, real sockets); ${n("clock")} virtual runs the nodes on an in-memory broker`,
    });
  }
  const kinds = [...new Set(faults.filter((f) => REAL_ONLY_FAULTS.has(f.kind)).map((f) => f.kind))];
  if (kinds.length > 0) {
    issues.push({
      field: "faults",
      text: (n) =>
        `${kinds.join(", ")} needs real time (a real client socket); with ${n("clock")} virtual use broker-restart, power-outage, partition, loss-burst, loss-step or twins-restart`,
    });
  }
  if (!o.twins && faults.some((f) => f.kind === "twins-restart")) {
    issues.push({
      field: "faults",
      text: (n) => `twins-restart needs the run's twins service, and the run has none (${n("twins")})`,
    });
  }
  return issues;
}
