/**
 * The twin's version (the web API's ETag): what moves it. Every change a twin shows — its report,
 * presence, config, desire or pairing — moves it once per message or command; a source's moves too
 * when a follower comes or goes, since its followers are part of what it shows.
 */
import type { NodeId } from "../protocol/index.js";
import { sameSet } from "./desire.js";
import type { TwinRecord } from "./twin-record.js";

/** Changes that never touch what a twin shows (they are the service's own bookkeeping). */
const UNSHOWN = new Set(["bad-input", "desired-changed", "reconcile", "put-back", "config-behind"]);

/** Each node an effect shows as changed moves to its next version, once; returns the effects. */
export function bumpVersions<E extends { readonly type: string; readonly node?: NodeId }>(
  twins: ReadonlyMap<NodeId, TwinRecord>,
  effects: E[],
): E[] {
  for (let i = 0; i < effects.length; i++) {
    const e = effects[i] as E;
    if (e.node === undefined || UNSHOWN.has(e.type) || shownBefore(effects, i, e.node)) continue;
    const t = twins.get(e.node);
    if (t) t.version++;
  }
  return effects;
}

/**
 * Does an effect before the i-th show `node` as changed? A message's effects are a few, so looking
 * back costs less than a set made for every message.
 */
function shownBefore(
  effects: readonly { readonly type: string; readonly node?: NodeId }[],
  i: number,
  node: NodeId,
): boolean {
  for (let j = 0; j < i; j++) {
    const e = effects[j];
    if (e?.node === node && !UNSHOWN.has(e.type)) return true;
  }
  return false;
}

/**
 * A follower came or went: the sources it joined or left show other followers now, each told as an
 * `updated` effect (change `followers`), which moves its version once (bumpVersions) and reaches
 * the service's `twin-updated`, so the fleet's list, the web API and its event stream show the move.
 * The version used to be raised here alone: the list (view/) kept the source at its old version and
 * the event stream sent nothing for it, so a source's page showed a follower paired or unpaired
 * elsewhere only at the source's next change.
 */
export function followedSourcesMoved(
  twins: ReadonlyMap<NodeId, TwinRecord>,
  before: readonly NodeId[],
  after: readonly NodeId[],
): { readonly type: "updated"; readonly node: NodeId; readonly change: "followers" }[] {
  if (sameSet(before, after)) return [];
  const out: { readonly type: "updated"; readonly node: NodeId; readonly change: "followers" }[] = [];
  for (const id of new Set([...before, ...after])) {
    if (before.includes(id) && after.includes(id)) continue;
    if (twins.has(id)) out.push({ type: "updated", node: id, change: "followers" });
  }
  return out;
}
