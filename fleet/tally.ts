/**
 * Sums every fleet report makes the same way, whether one process ran the whole fleet, a shard ran
 * its part or the merge joins the shards: each node's registration time (power-on to registered)
 * (and, for those that never registered, how their last connection failed) and the link counters of
 * the nodes' threads.
 */
import { addDrops, type ConnectFailure } from "../node/metrics.js";
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

/**
 * The link counters added up; a counter a part lacks (a shard report from before it) counts 0, and
 * so do its drops (by reason: only the reasons this build knows, counted in numbers).
 */
export function linkTotals(parts: Iterable<{ readonly link: Partial<LinkTotals> }>): LinkTotals {
  const link = noLinkTotals();
  const counters = Object.keys(link).filter((k) => k !== "drops") as Exclude<keyof LinkTotals, "drops">[];
  for (const p of parts) {
    for (const k of counters) link[k] += p.link[k] ?? 0;
    addDrops(link.drops, p.link.drops);
  }
  return link;
}

/** The fleet's nodes that never registered, with the last way each one's connection failed. */
export interface NotRegistered {
  readonly nodes: number;
  /** The first few, in fleet order. */
  readonly first: readonly NodeId[];
  /**
   * How many had each last connection failure; `none`: no attempt failed (it connected, or never
   * tried); `no-report`: it connected and registered, and none of its reports reached the control side.
   */
  readonly lastConnectFailure: Readonly<Partial<Record<ConnectFailure | "none" | "no-report", number>>>;
}

/** Undefined when every node registered. */
export function notRegistered(
  ids: readonly NodeId[],
  registered: ReadonlyMap<NodeId, number>,
  lastFailure: ReadonlyMap<NodeId, ConnectFailure>,
  unreported: ReadonlySet<NodeId> = new Set(),
): NotRegistered | undefined {
  const missing = ids.filter((id) => !registered.has(id));
  if (missing.length === 0) return undefined;
  const by: Partial<Record<ConnectFailure | "none" | "no-report", number>> = {};
  for (const id of missing) {
    const why = unreported.has(id) ? "no-report" : (lastFailure.get(id) ?? "none");
    by[why] = (by[why] ?? 0) + 1;
  }
  return { nodes: missing.length, first: missing.slice(0, 5), lastConnectFailure: by };
}
