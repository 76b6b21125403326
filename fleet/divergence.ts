/**
 * Divergence at the end of a run: a node is diverged when its final stamp is not the newest of its
 * own newest event and its sources' final stamps — when it does not hold what its pairing implies.
 */
import { compareStamps, formatStamp, type NodeId, type Stamp } from "../protocol/index.js";
import type { Pairing } from "../sim/topology.js";

export interface FinalState {
  readonly on: boolean;
  readonly stamp: Stamp;
}

export function divergedNodes(
  finals: ReadonlyMap<NodeId, FinalState>,
  pairing: Pairing,
  originated: ReadonlyMap<NodeId, Stamp>,
  /**
   * What the sources outside the fleet (boards, stand-ins) held last: a node following one used to be
   * judged against its fleet sources alone, and was diverged for holding the board's newer press.
   */
  outside: ReadonlyMap<NodeId, Stamp> = new Map(),
): string[] {
  const out: string[] = [];
  const valueOfStamp = new Map<string, boolean>();
  for (const [id, f] of finals) {
    let newest: Stamp = originated.get(id) ?? { counter: 0, origin: id };
    for (const s of pairing.get(id) ?? []) {
      const src = finals.get(s)?.stamp ?? outside.get(s);
      if (src && compareStamps(src, newest) > 0) newest = src;
    }
    const key = formatStamp(f.stamp);
    const seen = valueOfStamp.get(key);
    const inconsistent = seen !== undefined && seen !== f.on;
    valueOfStamp.set(key, f.on);
    if (compareStamps(f.stamp, newest) !== 0 || inconsistent) out.push(id);
  }
  return out.sort();
}
