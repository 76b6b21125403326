/**
 * Incremental convergence: the same report as `computeConvergence`, recomputed only for the weakly
 * connected components of the follow graph that changed since the previous call. A follower's
 * status depends only on nodes reachable from it, so a component closed under `sources` gives the
 * same answer computed alone as inside the whole fleet; every other follower keeps its last result.
 */
import type { NodeId, Stamp } from "../protocol/index.js";
import {
  type ConvergenceInput,
  type ConvergenceReport,
  computeConvergence,
  type FollowerSync,
} from "./convergence.js";

export class IncrementalConvergence {
  /** The previous call's input, by id, and the ids in input order. */
  private last = new Map<NodeId, ConvergenceInput>();
  private order: NodeId[] = [];
  /** Reverse edges: who lists an id among its sources (the id need not be a known node). */
  private readonly followersOf = new Map<NodeId, Set<NodeId>>();
  private readonly results = new Map<NodeId, FollowerSync>();
  private sorted: NodeId[] = [];
  private sortedStale = true;

  /** The report for `nodes`, identical to `computeConvergence(nodes)`. */
  update(nodes: readonly ConvergenceInput[]): ConvergenceReport {
    const next = new Map<NodeId, ConvergenceInput>();
    for (const n of nodes) {
      if (next.has(n.id)) {
        // A repeated id (the full computation keeps the last one): no state to reuse.
        this.clear();
        return computeConvergence(nodes);
      }
      next.set(n.id, n);
    }
    // The input's order decides the order of a cycle's members in the computation; any change to
    // it but appending (a node removed, or moved) starts afresh.
    for (let i = 0; i < this.order.length; i++) {
      if (nodes[i]?.id !== this.order[i]) {
        this.clear();
        break;
      }
    }
    const dirty: NodeId[] = [];
    for (const n of nodes) {
      const before = this.last.get(n.id);
      if (before && sameStamp(before.stamp, n.stamp) && sameList(before.sources, n.sources)) continue;
      if (before) this.unlink(before);
      this.link(n);
      dirty.push(n.id);
    }
    this.last = next;
    this.order = nodes.map((n) => n.id);
    if (dirty.length > 0) this.recompute(dirty, nodes);
    return this.report();
  }

  private clear(): void {
    this.last = new Map();
    this.order = [];
    this.followersOf.clear();
    this.results.clear();
    this.sortedStale = true;
  }

  /** Recomputes the components holding `dirty` ids, in the current graph. */
  private recompute(dirty: readonly NodeId[], nodes: readonly ConvergenceInput[]): void {
    const reached = new Set<NodeId>(dirty);
    const queue = [...dirty];
    for (let id = queue.pop(); id !== undefined; id = queue.pop()) {
      for (const s of this.last.get(id)?.sources ?? []) {
        if (!reached.has(s)) {
          reached.add(s);
          queue.push(s);
        }
      }
      for (const f of this.followersOf.get(id) ?? []) {
        if (!reached.has(f)) {
          reached.add(f);
          queue.push(f);
        }
      }
    }
    for (const id of reached) {
      if (this.results.delete(id)) this.sortedStale = true;
    }
    const part = nodes.filter((n) => reached.has(n.id));
    for (const f of computeConvergence(part).followers) {
      this.results.set(f.id, f);
      this.sortedStale = true;
    }
  }

  private report(): ConvergenceReport {
    if (this.sortedStale) {
      this.sorted = [...this.results.keys()].sort(byBytes);
      this.sortedStale = false;
    }
    const followers: FollowerSync[] = [];
    let inSync = 0;
    let known = 0;
    for (const id of this.sorted) {
      const f = this.results.get(id);
      if (!f) continue;
      if (f.status !== "unknown") known++;
      if (f.status === "in-sync") inSync++;
      followers.push(f);
    }
    return { followers, inSync, known, fraction: known === 0 ? 1 : inSync / known };
  }

  private link(n: ConvergenceInput): void {
    for (const s of n.sources) {
      let set = this.followersOf.get(s);
      if (!set) {
        set = new Set();
        this.followersOf.set(s, set);
      }
      set.add(n.id);
    }
  }

  private unlink(n: ConvergenceInput): void {
    for (const s of n.sources) {
      const set = this.followersOf.get(s);
      set?.delete(n.id);
      if (set?.size === 0) this.followersOf.delete(s);
    }
  }
}

function sameStamp(a: Stamp | undefined, b: Stamp | undefined): boolean {
  if (a === b) return true;
  return a !== undefined && b !== undefined && a.counter === b.counter && a.origin === b.origin;
}

function sameList(a: readonly NodeId[], b: readonly NodeId[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function byBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
