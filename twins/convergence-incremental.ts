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
  convergenceOf,
  type FollowerSync,
} from "./convergence.js";

/** Changed ids past 1/this of the fleet are recomputed with the whole fleet, not component by component. */
const WHOLE_FLEET_SHARE = 4;

export class IncrementalConvergence {
  /** The previous call's input, in its order, and by id. */
  private prev: ConvergenceInput[] = [];
  private last = new Map<NodeId, ConvergenceInput>();
  private readonly position = new Map<NodeId, number>();
  /** Reverse edges: who lists an id among its sources (the id need not be a known node). */
  private readonly followersOf = new Map<NodeId, Set<NodeId>>();
  /**
   * Each id's component, found when first needed; forgotten whenever an edge or a node comes or
   * goes (most passes change only stamps, and find every component where the last one did).
   */
  private readonly componentOf = new Map<NodeId, Component>();
  private results = new Map<NodeId, FollowerSync>();
  private sorted: NodeId[] = [];
  private sortedStale = true;
  /**
   * The last report's followers, each id's place in them and its counts: while the followers are
   * the same ids, the next report is this one with the recomputed entries put in their places, not
   * every id looked up again.
   */
  private lastFollowers: readonly FollowerSync[] = [];
  private readonly slot = new Map<NodeId, number>();
  private lastInSync = 0;
  private lastKnown = 0;
  /** Followers recomputed since the last report (all of them: `allChanged`). */
  private changedIds: NodeId[] = [];
  private allChanged = true;

  /** The report for `nodes`, identical to `computeConvergence(nodes)`. */
  update(nodes: readonly ConvergenceInput[]): ConvergenceReport {
    // Entries are compared by position: any change to the order but appending (a node removed, or
    // moved) starts afresh, which keeps removals simple and the part's order the full one's.
    const prev = this.prev;
    for (let i = 0; i < prev.length; i++) {
      if (nodes[i]?.id !== prev[i]?.id) {
        this.clear();
        break;
      }
    }
    const dirty: NodeId[] = [];
    for (let i = 0; i < nodes.length; i++) {
      if (!this.take(i, nodes[i] as ConvergenceInput, dirty)) return this.fresh(nodes);
    }
    this.prev = nodes.slice();
    if (dirty.length > 0) this.recompute(dirty, nodes);
    return this.report();
  }

  /**
   * The same report, for a caller that knows where its input changed: `changed` holds, ascending,
   * every position whose entry may differ from the previous call's (new entries included); the
   * others are the previous call's entries, and entries are only ever appended.
   */
  updateChanged(nodes: readonly ConvergenceInput[], changed: readonly number[]): ConvergenceReport {
    // Every appended entry must be among the changed ones (after a fresh start, all of them are).
    let appended = 0;
    for (const i of changed) if (i >= this.prev.length) appended++;
    if (nodes.length !== this.prev.length + appended) return this.update(nodes);
    const dirty: NodeId[] = [];
    for (const i of changed) {
      if (!this.take(i, nodes[i] as ConvergenceInput, dirty)) return this.fresh(nodes);
      this.prev[i] = nodes[i] as ConvergenceInput;
    }
    if (dirty.length > 0) this.recompute(dirty, nodes);
    return this.report();
  }

  /**
   * Takes in the entry at position `i`, adding its id to `dirty` if it changed; false for a
   * repeated id (the full computation keeps the last one), which leaves no state to reuse.
   */
  private take(i: number, n: ConvergenceInput, dirty: NodeId[]): boolean {
    const before = this.prev[i];
    if (before === undefined && this.last.has(n.id)) return false;
    if (before === n) return true;
    const sameSources = before !== undefined && sameList(before.sources, n.sources);
    const sameOffline = (before?.offline ?? false) === (n.offline ?? false);
    if (sameSources && sameOffline && sameStamp(before.stamp, n.stamp)) return true;
    if (!sameSources) {
      if (before) this.unlink(before);
      this.link(n);
    }
    if (!before) this.position.set(n.id, i);
    if (!sameSources || !before) this.graphChanged();
    this.last.set(n.id, n);
    dirty.push(n.id);
    return true;
  }

  private fresh(nodes: readonly ConvergenceInput[]): ConvergenceReport {
    this.clear();
    return computeConvergence(nodes);
  }

  private clear(): void {
    this.allChanged = true;
    this.prev = [];
    this.last.clear();
    this.position.clear();
    this.followersOf.clear();
    this.results.clear();
    this.graphChanged();
  }

  /** The components are no longer known, and the followers may be other ids than before. */
  private graphChanged(): void {
    this.componentOf.clear();
    this.sortedStale = true;
  }

  /** Recomputes the components holding `dirty` ids, in the current graph. */
  private recompute(dirty: readonly NodeId[], nodes: readonly ConvergenceInput[]): void {
    // Past a quarter of the fleet, the changed components are most of it (a busy fleet between two
    // passes): computing everything costs less than finding them.
    if (dirty.length * WHOLE_FLEET_SHARE > nodes.length) {
      this.recomputeAll(nodes);
      return;
    }
    const parts = new Set<Component>();
    for (const id of dirty) parts.add(this.component(id));
    // The part in the input's order, as the full computation would visit it.
    const at: number[] = [];
    for (const c of parts) for (const i of c.positions) at.push(i);
    const part = at.sort((a, b) => a - b).map((i) => nodes[i] as ConvergenceInput);
    // A node that stopped following is a change of the graph: the sorted ids are made again then.
    // The part's ids are distinct, and its followers are exactly its nodes with sources.
    for (const n of part) if (n.sources.length === 0) this.results.delete(n.id);
    for (const f of convergenceOf(part, false).followers) {
      this.results.set(f.id, f);
      this.changedIds.push(f.id);
    }
  }

  /** The weakly connected component holding `id`, walked through sources and followers alike. */
  private component(id: NodeId): Component {
    const known = this.componentOf.get(id);
    if (known) return known;
    const c: Component = { positions: [] };
    this.componentOf.set(id, c);
    const queue = [id];
    for (let m = queue.pop(); m !== undefined; m = queue.pop()) {
      const i = this.position.get(m);
      if (i !== undefined) c.positions.push(i);
      for (const s of this.last.get(m)?.sources ?? []) this.reach(s, c, queue);
      for (const f of this.followersOf.get(m) ?? []) this.reach(f, c, queue);
    }
    return c;
  }

  private reach(id: NodeId, c: Component, queue: NodeId[]): void {
    if (this.componentOf.has(id)) return;
    this.componentOf.set(id, c);
    queue.push(id);
  }

  /** Every follower afresh; the ids stay sorted if they are the same followers as before. */
  private recomputeAll(nodes: readonly ConvergenceInput[]): void {
    const before = this.results;
    const results = new Map<NodeId, FollowerSync>();
    for (const f of convergenceOf(nodes, false).followers) {
      results.set(f.id, f);
      if (!before.has(f.id)) this.sortedStale = true;
    }
    if (results.size !== before.size) this.sortedStale = true;
    this.results = results;
    this.allChanged = true;
  }

  private report(): ConvergenceReport {
    const changed = this.changedIds;
    this.changedIds = [];
    if (this.sortedStale || this.allChanged) return this.fullReport();
    // The same followers as the last report (a new or lost one makes the ids stale): only the
    // recomputed entries differ. The last array may be held by a caller, so this is a copy.
    const followers = this.lastFollowers.slice();
    let inSync = this.lastInSync;
    let known = this.lastKnown;
    for (const id of changed) {
      const k = this.slot.get(id);
      const f = this.results.get(id);
      if (k === undefined || f === undefined) return this.fullReport();
      const old = followers[k] as FollowerSync;
      known += count(f.status !== "unknown") - count(old.status !== "unknown");
      inSync += count(f.status === "in-sync") - count(old.status === "in-sync");
      followers[k] = f;
    }
    return this.remember(followers, inSync, known);
  }

  /** Every follower looked up in id order. */
  private fullReport(): ConvergenceReport {
    if (this.sortedStale) {
      this.sorted = [...this.results.keys()].sort(byBytes);
      this.sortedStale = false;
    }
    this.allChanged = false;
    this.changedIds = [];
    this.slot.clear();
    const followers: FollowerSync[] = [];
    let inSync = 0;
    let known = 0;
    for (const id of this.sorted) {
      const f = this.results.get(id);
      if (!f) continue;
      if (f.status !== "unknown") known++;
      if (f.status === "in-sync") inSync++;
      this.slot.set(id, followers.length);
      followers.push(f);
    }
    return this.remember(followers, inSync, known);
  }

  private remember(followers: FollowerSync[], inSync: number, known: number): ConvergenceReport {
    this.lastFollowers = followers;
    this.lastInSync = inSync;
    this.lastKnown = known;
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

/** The positions of a component's known nodes (ids no entry names have none). */
interface Component {
  readonly positions: number[];
}

function count(yes: boolean): number {
  return yes ? 1 : 0;
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
