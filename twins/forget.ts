/**
 * Which twin gives way when the registry is full (`--max-nodes`) and a node it does not know speaks:
 * one that holds nothing anyone needs — not online, no desired pairing or set, following no one and
 * followed by no one — the one heard from longest ago (never: first). Without it, twins made up by a
 * client on the LAN (registers under invented ids) were stored, came back with every restart, and
 * kept real nodes out for good (`too-many-nodes`), with no way to forget them.
 */
import type { NodeId } from "../protocol/index.js";
import type { FollowGraph } from "./follow-graph.js";
import { followed, type TwinRecord } from "./twin-record.js";

/** Whether `t` may be forgotten: nothing of it is needed by the fleet or by a pairing. */
export function forgettable(t: TwinRecord, graph: FollowGraph, desiredSources: ReadonlySet<NodeId>): boolean {
  return (
    t.presence !== "online" &&
    t.desired.sources.length === 0 &&
    t.desired.pendingSet === undefined &&
    followed(t).length === 0 &&
    graph.followers(t.id).length === 0 &&
    !desiredSources.has(t.id)
  );
}

/** The twin to forget for a newcomer, or undefined when every twin is needed. */
export function stalest(twins: ReadonlyMap<NodeId, TwinRecord>, graph: FollowGraph): TwinRecord | undefined {
  const desiredSources = new Set<NodeId>();
  for (const t of twins.values()) for (const s of t.desired.sources) desiredSources.add(s);
  let pick: TwinRecord | undefined;
  for (const t of twins.values()) {
    if (!forgettable(t, graph, desiredSources)) continue;
    if (
      pick === undefined ||
      (t.lastSeen ?? Number.NEGATIVE_INFINITY) < (pick.lastSeen ?? Number.NEGATIVE_INFINITY)
    )
      pick = t;
  }
  return pick;
}

/** Forgets the stalest twin no one needs, from every index the registry keeps; its id, or undefined. */
export function forgetStalest(
  twins: Map<NodeId, TwinRecord>,
  graph: FollowGraph,
  inputs: { remove(t: TwinRecord): void },
): NodeId | undefined {
  const t = stalest(twins, graph);
  if (t === undefined) return undefined;
  graph.forget(t);
  inputs.remove(t);
  twins.delete(t.id);
  return t.id;
}
