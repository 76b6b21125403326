/**
 * Divergence at the end of a run: a node is diverged when its final stamp is not the newest of its
 * own newest event and its sources' final stamps — when it does not hold what its pairing implies
 * (power-on states, all off, are one state whatever their origins).
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
    // Power-on states (counter 0, every one off) differ only in the origin's tie-break, which no LED
    // shows: a node on its own while its sources are on theirs holds what they hold. Such nodes that
    // never heard one another (a broker dead before any registered) were 250 of 2000 "diverged".
    const powerOn = f.stamp.counter === 0 && newest.counter === 0 && !f.on;
    if ((compareStamps(f.stamp, newest) !== 0 && !powerOn) || inconsistent) out.push(id);
  }
  return out.sort();
}
