/**
 * Two pairings written for the same offline node at once: this service's config and another control
 * tool's (a `twinfleet pair` on another desk, a second service), both one above the version each had
 * seen, so both at the same version with different sources. The broker keeps whichever came last,
 * and the desire stayed this service's: the other operator's pairing, told written, was undone when
 * the node returned, and nothing said so (docs/twins.md, "Two pairings written at once"). The other
 * write's change (what it added to and removed from the config both started from) is put on top of
 * the desire and written again, one version up, so that both operators' pairings stand.
 */
import { MAX_FOLLOWS, type NodeId } from "../protocol/index.js";
import { sameSet } from "./desire.js";
import type { RegistryEffect } from "./effects.js";
import { MAX_OFFLINE_WRITES, type StoredOfflineWrite } from "./store.js";
import type { TwinRecord } from "./twin-record.js";

/**
 * A config this service wrote for a node away: its version, its sources, and the sources before it.
 * Stored with the desire (twins.json format 2), so a service killed between its write and the
 * other's still sees the crossing when it starts again.
 */
export type OfflineWrite = StoredOfflineWrite;

/** Writes kept per node, the newest last: more while the node is away is not a desk's pace. */
const KEPT = MAX_OFFLINE_WRITES;

/** `t`'s offline writes with one more: `sources` written at `version`, the desire having been `before`. */
export function noteOfflineWrite(
  t: TwinRecord,
  before: readonly NodeId[],
  sources: readonly NodeId[],
  version: number,
): void {
  const kept = (t.offlineWrites ?? []).filter((w) => w.version !== version).slice(-(KEPT - 1));
  t.offlineWrites = [...kept, { version, sources: [...sources], before: [...before] }];
}

export type CrossedEffect = Extract<RegistryEffect, { type: "crossed" }>;

/**
 * The effect of a config, not the node's own, at the version of one of this service's writes for the
 * node but with other sources; `"taken"` for one taken so already (seen again: nothing more to do);
 * undefined for any other config. A write may cross several: two desks that read the same config
 * wrote the same version, and the second came after the first was taken and written again above
 * (it used to be counted `stale-config` bad input, and its pairing was lost).
 */
export function crossedWrite(
  t: TwinRecord,
  version: number,
  theirs: readonly NodeId[],
): CrossedEffect | "taken" | undefined {
  const ours = t.offlineWrites?.find((w) => w.version === version);
  if (ours === undefined || sameSet(ours.sources, theirs)) return undefined;
  if (ours.taken?.some((s) => sameSet(s, theirs))) return "taken";
  const taken = [...(ours.taken ?? []), [...theirs]].slice(-KEPT);
  t.offlineWrites = t.offlineWrites?.map((w) => (w === ours ? { ...w, taken } : w));
  const merged = mergeCrossed(t.desired.sources, ours.before, theirs);
  return {
    type: "crossed",
    node: t.id,
    version,
    theirs: [...theirs],
    ours: [...ours.sources],
    desired: [...t.desired.sources],
    ...(merged === undefined ? {} : { merged }),
  };
}

/**
 * `desired` with the change `theirs` made to `before` on top: their new sources added (after ours),
 * the ones they removed taken out. Undefined when that would follow more than the protocol allows.
 */
export function mergeCrossed(
  desired: readonly NodeId[],
  before: readonly NodeId[],
  theirs: readonly NodeId[],
): NodeId[] | undefined {
  const removed = before.filter((s) => !theirs.includes(s));
  const added = theirs.filter((s) => !before.includes(s));
  const merged = [...desired.filter((s) => !removed.includes(s))];
  for (const s of added) if (!merged.includes(s)) merged.push(s);
  return merged.length > MAX_FOLLOWS ? undefined : merged;
}

/** The line telling a crossing, and what stands after it. */
export function crossedLine(e: CrossedEffect): string {
  const list = (l: readonly string[]) => (l.length === 0 ? "nobody" : l.join(", "));
  const head = `two pairings of ${e.node} were written at once, both as config version ${e.version}: another control tool's (${list(e.theirs)}) and this service's (${list(e.ours)})`;
  if (e.merged !== undefined)
    return `${head}; both are kept: it follows ${list(e.merged)} once it returns (written again, one version up)`;
  return `${head}; the other's cannot be added without passing ${MAX_FOLLOWS} sources: this service's stands (${list(e.desired)}), written again one version up, and the other is not carried out`;
}
