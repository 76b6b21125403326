/**
 * The pairings this service itself asked of a node and has not seen carried out. An online node
 * carries out pairing commands in order and publishes its config after each, so a pair, an unpair and
 * a pair sent within a round trip come back as three configs, the older two behind the newest desire:
 * the second (the unpair's, at a higher version than the desire was written at) read as another
 * control tool's command, and replaced a pairing answered 200 by its own superseded unpair until the
 * node's last config came (docs/twins.md, "Pairing"). Pure.
 */
import type { NodeId } from "../protocol/index.js";

/** A desire this service wrote: its sources, and the least config version of the node carrying it. */
export interface OwnWrite {
  readonly sources: readonly NodeId[];
  readonly from: number;
}

/** Writes kept per node: more within one round trip is not a fleet an operator drives by hand. */
const KEPT = 8;

/**
 * `writes` with one more, the newest last. A node shows each command it carries out at a version
 * above the last, so a write behind others not yet seen carried out comes at one above the newest
 * of theirs, though the node's version the service has seen is older.
 */
export function withOwnWrite(
  writes: readonly OwnWrite[] | undefined,
  sources: readonly NodeId[],
  from: number,
): OwnWrite[] {
  const behind = (writes?.at(-1)?.from ?? Number.NEGATIVE_INFINITY) + 1;
  return [...(writes ?? []).slice(-(KEPT - 1)), { sources: [...sources], from: Math.max(from, behind) }];
}

/**
 * A config of the node's showing a write of this service's older than its newest (the desire): the
 * node carrying out a command sent before the desire's, whose own command follows it.
 */
export function isOwnEcho(
  writes: readonly OwnWrite[] | undefined,
  sources: readonly NodeId[],
  version: number,
  same: (a: readonly NodeId[], b: readonly NodeId[]) => boolean,
): boolean {
  if (writes === undefined) return false;
  return writes.slice(0, -1).some((w) => version >= w.from && same(w.sources, sources));
}

/** The writes still owed once the node showed the desire's sources at `version`: none once it reached the newest. */
export function afterDesireShown(
  writes: readonly OwnWrite[] | undefined,
  version: number,
): OwnWrite[] | undefined {
  const newest = writes?.at(-1);
  return newest === undefined || version >= newest.from ? undefined : [...(writes ?? [])];
}
