/**
 * Sums every fleet report makes the same way, whether one process ran the whole fleet, a shard ran
 * its part or the merge joins the shards: each node's registration time (power-on to registered)
 * and the link counters of the nodes' threads.
 */
import type { NodeId } from "../protocol/index.js";
import { Distribution } from "../sim/histogram.js";
import { type LinkTotals, noLinkTotals } from "../sim/messages.js";

export interface RegistrationTimes {
  /** Every registered node's time, µs resolution (scale 1000 per ms). */
  readonly histogram: Distribution;
  /** Each registered node's time in ms, to 0.1 ms, in the order of `ids`. */
  readonly ms: ReadonlyMap<NodeId, number>;
}

/** The registration time of each of `ids` that both booted and registered (never below 0). */
export function registrationTimes(
  ids: readonly NodeId[],
  registeredAt: ReadonlyMap<string, number>,
  bootAt: ReadonlyMap<string, number>,
): RegistrationTimes {
  const histogram = new Distribution(1000, 3_600_000);
  const ms = new Map<NodeId, number>();
  for (const id of ids) {
    const at = registeredAt.get(id);
    const boot = bootAt.get(id);
    if (at === undefined || boot === undefined) continue;
    const t = Math.max(0, at - boot);
    histogram.record(t);
    ms.set(id, Math.round(t * 10) / 10);
  }
  return { histogram, ms };
}

/** The link counters added up; a counter a part lacks (a shard report from before it) counts 0. */
export function linkTotals(parts: Iterable<{ readonly link: Partial<LinkTotals> }>): LinkTotals {
  const link = noLinkTotals();
  for (const p of parts) for (const k of Object.keys(link) as (keyof LinkTotals)[]) link[k] += p.link[k] ?? 0;
  return link;
}
