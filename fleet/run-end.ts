/**
 * A one-process run's end (fleet/run.ts), as a shard's (fleet/shard-run.ts): its nodes stopped, then
 * its claim cleared and its parts closed, each step told first to its caller (fleet/start-control.ts
 * `ending`); and its report's `claim`, read once that clear is done. Read before, as it was, it left
 * out a clear by someone else while the nodes stopped (claimed again, and said in the log); the
 * clear at its end is its own and no loss, and a loss not held again by then lasted until it.
 */
import type { ShardHost } from "../sim/messages.js";
import { claimField, claimReport } from "./claim-report.js";
import type { Report } from "./report.js";
import { closeParts, type FleetParts } from "./setup.js";
import type { StartControl } from "./start-control.js";

/** Stops the run's nodes, then closes its parts (its claim first), each step told to `ending`. */
export async function endRun(
  parts: FleetParts,
  pool: ShardHost,
  ending: StartControl["ending"],
): Promise<void> {
  await ending?.("stopping its nodes");
  await pool.destroy().catch(() => {});
  await ending?.("clearing its claim on its ids");
  await closeParts(parts);
}

/**
 * The report with its `claim` section (fleet/claim-report.ts), once the run's own clear is done, and
 * its `brokerMoved` (fleet/broker-address.ts).
 */
export function withClaim(report: Report, parts: FleetParts, pressStartMs: number, endMs: number): Report {
  const moved = parts.nodesAt?.moves?.report(pressStartMs);
  return {
    ...report,
    ...claimField(claimReport(parts.claim, pressStartMs, endMs)),
    ...(moved !== undefined ? { brokerMoved: moved } : {}),
  };
}
