/**
 * Convergence: which followers hold the newest stamp of everything upstream of them, and which do
 * not. Pure: takes the reported graph (each node's retained config and report) and returns a report;
 * the definition it implements is written out in docs/twins.md ("Convergence").
 */
import { compareStamps, type NodeId, type Stamp } from "../protocol/index.js";

/** What convergence needs to know of one node: its reported stamp and the sources it follows. */
export interface ConvergenceInput {
  readonly id: NodeId;
  /** The node's reported stamp; undefined when no report has been seen. */
  readonly stamp: Stamp | undefined;
  /** The sources of the node's reported config (what it actually follows). */
  readonly sources: readonly NodeId[];
}

/**
 * - `in-sync`: the follower's stamp equals the newest stamp upstream of it.
 * - `behind`: a node upstream holds a newer stamp; an update is on its way (or was lost).
 * - `ahead`: the follower holds a newer event of its own (a press or a set) that its sources never
 *   received — the conflict of protocol.md §4; only a newer event upstream brings it back.
 * - `unknown`: the follower has not reported, or none of its upstream nodes has.
 */
export type SyncStatus = "in-sync" | "behind" | "ahead" | "unknown";

export interface FollowerSync {
  readonly id: NodeId;
  readonly status: SyncStatus;
  readonly stamp: Stamp | undefined;
  /** The newest stamp among the nodes upstream of this one (transitively, itself excluded). */
  readonly target: Stamp | undefined;
  /** Direct sources whose stamp is newer than this node's: the next hop the update must cross. */
  readonly waitingOn: readonly NodeId[];
}

export interface ConvergenceReport {
  /** Followers (nodes with at least one source), sorted by id. */
  readonly followers: readonly FollowerSync[];
  readonly inSync: number;
  /** Followers whose status is known (not `unknown`): the fraction's denominator. */
  readonly known: number;
  /** inSync / known; 1 when no follower is known (an empty or unpaired fleet is in sync). */
  readonly fraction: number;
}

/**
 * Computes every follower's status in O(nodes + edges): strongly connected components of the follow
 * graph (Tarjan), then the newest stamp reachable from each component in reverse topological order.
 * Inside a cycle a node's upstream holds every other member of the cycle, so each component keeps
 * its two newest members and a node excludes itself by taking the other one.
 */
export function computeConvergence(nodes: readonly ConvergenceInput[]): ConvergenceReport {
  return convergenceOf(nodes, true);
}

/**
 * computeConvergence's work; with `sorted` false the followers come in no set order (for a caller
 * that files them by id anyway: sorting every id of a large fleet on each pass was a part of its cost).
 */
export function convergenceOf(nodes: readonly ConvergenceInput[], sorted: boolean): ConvergenceReport {
  const byId = new Map<NodeId, ConvergenceInput>();
  for (const n of nodes) byId.set(n.id, n);
  const edges = (id: NodeId): readonly NodeId[] => byId.get(id)?.sources ?? [];
  const stampOf = (id: NodeId): Stamp | undefined => byId.get(id)?.stamp;

  const comp = tarjan([...byId.keys()], edges);
  // Tarjan emits components so that every component reachable from C is emitted before C.
  const upstreamMax: (Stamp | undefined)[] = [];
  const top1: (NodeId | undefined)[] = [];
  const top2: (NodeId | undefined)[] = [];
  comp.components.forEach((members, ci) => {
    let best: Stamp | undefined;
    let first: NodeId | undefined;
    let second: NodeId | undefined;
    for (const m of members) {
      for (const s of edges(m)) {
        const cs = comp.index.get(s);
        if (cs === undefined) {
          best = newest(best, stampOf(s));
        } else if (cs !== ci) {
          best = newest(best, upstreamMax[cs]);
          best = newest(best, componentMax(cs));
        }
      }
      const st = stampOf(m);
      if (st === undefined) continue;
      const f = first === undefined ? undefined : stampOf(first);
      if (f === undefined || compareStamps(st, f) > 0) {
        second = first;
        first = m;
      } else {
        const s2 = second === undefined ? undefined : stampOf(second);
        if (s2 === undefined || compareStamps(st, s2) > 0) second = m;
      }
    }
    upstreamMax[ci] = best;
    top1[ci] = first;
    top2[ci] = second;
  });
  function componentMax(ci: number): Stamp | undefined {
    const t = top1[ci];
    return t === undefined ? undefined : stampOf(t);
  }

  const followers: FollowerSync[] = [];
  let inSync = 0;
  let known = 0;
  const ids = [...byId.keys()];
  for (const id of sorted ? ids.sort(byBytes) : ids) {
    const node = byId.get(id);
    if (!node || node.sources.length === 0) continue;
    const ci = comp.index.get(id) ?? -1;
    const cyclic = (comp.components[ci]?.length ?? 0) > 1;
    let target = upstreamMax[ci];
    if (cyclic) {
      const other = top1[ci] === id ? top2[ci] : top1[ci];
      target = newest(target, other === undefined ? undefined : stampOf(other));
    }
    const status = statusOf(node.stamp, target);
    const waitingOn =
      node.stamp === undefined
        ? []
        : node.sources.filter((s) => {
            const st = stampOf(s);
            return st !== undefined && node.stamp !== undefined && compareStamps(st, node.stamp) > 0;
          });
    if (status !== "unknown") known++;
    if (status === "in-sync") inSync++;
    followers.push({ id, status, stamp: node.stamp, target, waitingOn });
  }
  return { followers, inSync, known, fraction: known === 0 ? 1 : inSync / known };
}

function statusOf(stamp: Stamp | undefined, target: Stamp | undefined): SyncStatus {
  if (stamp === undefined || target === undefined) return "unknown";
  const c = compareStamps(stamp, target);
  return c === 0 ? "in-sync" : c < 0 ? "behind" : "ahead";
}

function newest(a: Stamp | undefined, b: Stamp | undefined): Stamp | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return compareStamps(a, b) >= 0 ? a : b;
}

function byBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

interface Components {
  /** In an order where every component reachable from one comes before it. */
  readonly components: readonly (readonly NodeId[])[];
  readonly index: ReadonlyMap<NodeId, number>;
}

/** Tarjan's walk through one node: its id, its sources among the known ids, the next to look at. */
interface Frame {
  readonly id: NodeId;
  next: number;
  readonly out: readonly NodeId[];
}

/** Iterative Tarjan (fleets can form chains longer than the call stack allows). */
function tarjan(ids: readonly NodeId[], edges: (id: NodeId) => readonly NodeId[]): Components {
  const known = new Set(ids);
  const order = new Map<NodeId, number>();
  const low = new Map<NodeId, number>();
  const onStack = new Set<NodeId>();
  const stack: NodeId[] = [];
  const components: NodeId[][] = [];
  const index = new Map<NodeId, number>();
  let counter = 0;
  // A node's sources among the known ids, filtered once per visit (not once per step of it).
  const visit = (id: NodeId): Frame => {
    const all = edges(id);
    let out = all;
    for (const s of all) {
      if (!known.has(s)) {
        out = all.filter((x) => known.has(x));
        break;
      }
    }
    return { id, next: 0, out };
  };

  for (const root of ids) {
    if (order.has(root)) continue;
    const work: Frame[] = [visit(root)];
    order.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      if (!frame) break;
      const out = frame.out;
      if (frame.next < out.length) {
        const s = out[frame.next++];
        if (s === undefined) continue;
        if (!order.has(s)) {
          order.set(s, counter);
          low.set(s, counter++);
          stack.push(s);
          onStack.add(s);
          work.push(visit(s));
        } else if (onStack.has(s)) {
          low.set(frame.id, Math.min(low.get(frame.id) ?? 0, order.get(s) ?? 0));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.id, Math.min(low.get(parent.id) ?? 0, low.get(frame.id) ?? 0));
      if (low.get(frame.id) === order.get(frame.id)) {
        const members: NodeId[] = [];
        for (;;) {
          const m = stack.pop();
          if (m === undefined) break;
          onStack.delete(m);
          index.set(m, components.length);
          members.push(m);
          if (m === frame.id) break;
        }
        components.push(members);
      }
    }
  }
  return { components, index };
}
