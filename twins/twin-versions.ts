/**
 * The twin's version (the web API's ETag): what moves it. Every change a twin shows — its report,
 * presence, config, desire or pairing — moves it once per message or command; a source's moves too
 * when a follower comes or goes, since its followers are part of what it shows.
 */
import type { NodeId } from "../protocol/index.js";
import { sameSet } from "./desire.js";
import type { TwinRecord } from "./twin-record.js";

/** Changes that never touch what a twin shows (they are the service's own bookkeeping). */
const UNSHOWN = new Set(["bad-input", "desired-changed", "reconcile"]);

/** Each node an effect shows as changed moves to its next version, once; returns the effects. */
export function bumpVersions<E extends { readonly type: string; readonly node?: NodeId }>(
  twins: ReadonlyMap<NodeId, TwinRecord>,
  effects: E[],
): E[] {
  const seen = new Set<NodeId>();
  for (const e of effects) {
    if (UNSHOWN.has(e.type) || e.node === undefined || seen.has(e.node)) continue;
    seen.add(e.node);
    const t = twins.get(e.node);
    if (t) t.version++;
  }
  return effects;
}

/** A follower came or went: the sources it joined or left show other followers now. */
export function bumpFollowedSources(
  twins: ReadonlyMap<NodeId, TwinRecord>,
  before: readonly NodeId[],
  after: readonly NodeId[],
): void {
  if (sameSet(before, after)) return;
  for (const id of new Set([...before, ...after])) {
    if (before.includes(id) && after.includes(id)) continue;
    const s = twins.get(id);
    if (s) s.version++;
  }
}
