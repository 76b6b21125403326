/**
 * Pairing topologies for a fleet: who follows whom. Generated from a named shape and a group size,
 * or read from a pairing file (pairing-file.ts); always within the protocol's limit of sources per node.
 */

import seedrandom from "seedrandom";
import { assertNever, MAX_FOLLOWS, type NodeId, NodeId as toNodeId } from "../protocol/index.js";

export const TOPOLOGY_KINDS = ["ring", "pairs", "star", "chain", "random", "none"] as const;
export type TopologyKind = (typeof TOPOLOGY_KINDS)[number];

/** follower → the sources it follows, in order. */
export type Pairing = ReadonlyMap<NodeId, readonly NodeId[]>;

export interface TopologySpec {
  readonly kind: TopologyKind;
  /** Nodes per group: a ring, chain or star of this many; `random` draws sources within groups. */
  readonly groupSize: number;
  /** For `random`: how many sources each node follows (≤ group size − 1, ≤ 8). */
  readonly follows?: number;
  readonly seed?: string;
}

/** Node ids of a fleet: `<base>-0001`… zero-padded so they sort in creation order. */
export function fleetIds(count: number, base = "n"): NodeId[] {
  const width = Math.max(4, String(count - 1).length);
  return Array.from({ length: count }, (_, i) => toNodeId(`${base}-${String(i).padStart(width, "0")}`));
}

export function buildPairing(ids: readonly NodeId[], spec: TopologySpec): Pairing {
  const out = new Map<NodeId, NodeId[]>();
  const follow = (f: NodeId | undefined, s: NodeId | undefined) => {
    if (f === undefined || s === undefined || f === s) return;
    const list = out.get(f) ?? [];
    if (!list.includes(s)) list.push(s);
    out.set(f, list);
  };
  const k = Math.max(1, spec.groupSize);
  const rng = seedrandom(`${spec.seed ?? "twinfleet"}/topology`);
  for (let start = 0; start < ids.length; start += k) {
    const g = ids.slice(start, start + k);
    switch (spec.kind) {
      case "ring": // each follows the previous one, the first follows the last: a cycle
        if (g.length > 1) for (let i = 0; i < g.length; i++) follow(g[i], g[(i + g.length - 1) % g.length]);
        break;
      case "chain": // each follows the previous one: a press on the head reaches the tail
        for (let i = 1; i < g.length; i++) follow(g[i], g[i - 1]);
        break;
      case "pairs": // mutual pairs, whatever the group size
        for (let i = 0; i + 1 < g.length; i += 2) {
          follow(g[i], g[i + 1]);
          follow(g[i + 1], g[i]);
        }
        break;
      case "star": // the first of each group is the hub; the others follow it
        for (const id of g.slice(1)) follow(id, g[0]);
        break;
      case "random": {
        const n = Math.min(spec.follows ?? 2, g.length - 1, MAX_FOLLOWS);
        for (const id of g) {
          const others = g.filter((o) => o !== id);
          for (let j = 0; j < n; j++) {
            const pick = Math.floor(rng() * others.length);
            follow(id, others.splice(pick, 1)[0]);
          }
        }
        break;
      }
      case "none":
        break;
      default:
        assertNever(spec.kind);
    }
  }
  return out;
}

export { PairingFileError, readPairingFile } from "./pairing-file.js";

/** For each node, every node that follows it directly or through a chain (its reach). */
export function followersReach(pairing: Pairing): Map<NodeId, NodeId[]> {
  const direct = new Map<NodeId, NodeId[]>();
  for (const [f, sources] of pairing) {
    for (const s of sources) direct.set(s, [...(direct.get(s) ?? []), f]);
  }
  const reach = new Map<NodeId, NodeId[]>();
  for (const s of direct.keys()) {
    const seen = new Set<NodeId>();
    const stack = [...(direct.get(s) ?? [])];
    while (stack.length > 0) {
      const n = stack.pop();
      if (n === undefined || n === s || seen.has(n)) continue;
      seen.add(n);
      stack.push(...(direct.get(n) ?? []));
    }
    reach.set(s, [...seen]);
  }
  return reach;
}
