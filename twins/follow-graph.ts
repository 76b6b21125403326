/**
 * Who follows whom, as the registry sees it: the followers index kept in step with the reported
 * configs (so a twin's view lists its followers in O(1)), and the provenance checks a report's stamp
 * must pass — its origin is the node itself or upstream of it through any sources it has, had or is
 * desired to have, or another twin holds exactly that stamp.
 */
import { compareStamps, type NodeId, type Stamp } from "../protocol/index.js";
import { followed, type TwinRecord } from "./twin-record.js";

/** The followers of a node nobody follows. */
const NO_FOLLOWERS: readonly NodeId[] = Object.freeze([]);

export class FollowGraph {
  private readonly followersOf = new Map<NodeId, Set<NodeId>>();
  /**
   * What each record's `upstream` answer is good for: the provenance check runs for nearly every
   * report, and the sources change only when a config, a desire or a stored state is taken in.
   */
  private epoch = 0;
  /** followers() answers kept until the node's followers change. */
  private readonly sortedFollowers = new Map<NodeId, readonly NodeId[]>();

  constructor(private readonly twins: ReadonlyMap<NodeId, TwinRecord>) {}

  /**
   * The nodes whose reported config follows `id`, sorted; the same frozen array until they change
   * (a twin's view, made for every report, lists them).
   */
  followers(id: NodeId): readonly NodeId[] {
    let list = this.sortedFollowers.get(id);
    if (list === undefined) {
      // Most nodes of a large fleet have no follower: one shared empty list, nothing kept per node.
      if (!this.followersOf.get(id)?.size) return NO_FOLLOWERS;
      list = Object.freeze([...(this.followersOf.get(id) ?? [])].sort());
      this.sortedFollowers.set(id, list);
    }
    return list;
  }

  /**
   * Every node following `id` by its config (the index) or desired to (a look over the records, no
   * view made), sorted: retiring `id` unpairs them (twins/retire.ts). Listing them from every twin's
   * view, sorted, cost each of a series of forgets a walk that made a view of every twin.
   */
  followersAny(id: NodeId): NodeId[] {
    const all = new Set(this.followers(id));
    for (const t of this.twins.values()) if (t.desired.sources.includes(id)) all.add(t.id);
    return [...all].sort();
  }

  /** Nodes with a follower in the index (for tests). */
  get indexed(): number {
    return this.followersOf.size;
  }

  /** Some node's sources (had, have or desired) changed: every upstream answer kept is stale. */
  sourcesChanged(): void {
    this.epoch++;
  }

  /** Keeps the followers index in step with whom `t` follows, after `before`. */
  refollow(t: TwinRecord, before: readonly NodeId[]): void {
    this.sourcesChanged();
    for (const src of before) {
      // A source left with no follower goes from the index: one never a twin (a node paired before its
      // first boot, or in another shard) or forgotten was kept, empty, for as long as the service ran.
      const set = this.followersOf.get(src);
      if (set?.delete(t.id) === true && set.size === 0) this.followersOf.delete(src);
      this.sortedFollowers.delete(src);
    }
    for (const src of followed(t)) {
      this.sortedFollowers.delete(src);
      const set = this.followersOf.get(src);
      if (set) set.add(t.id);
      else this.followersOf.set(src, new Set([t.id]));
    }
  }

  /** `t` is forgotten: it follows no one and no one follows it (twins/forget.ts). */
  forget(t: TwinRecord): void {
    this.sourcesChanged();
    this.followersOf.delete(t.id);
    this.sortedFollowers.delete(t.id);
  }

  /**
   * May node `t` hold a stamp from `origin`: itself, upstream of it, or a stamp another twin holds?
   * Yes too while whom `t` follows is not known (sourcesKnown): nothing to judge the origin by.
   */
  mayCarry(t: TwinRecord, stamp: Stamp): boolean {
    return (
      stamp.origin === t.id ||
      !sourcesKnown(t) ||
      this.upstream(t, stamp.origin) ||
      this.isKnownEvent(t.id, stamp)
    );
  }

  /** Is `origin` reachable upstream of `t` through any sources it has or had? */
  private upstream(t: TwinRecord, origin: NodeId): boolean {
    let known = t.upstream;
    if (known === undefined || known.epoch !== this.epoch) {
      known = { epoch: this.epoch, ids: this.walkUpstream(t.id) };
      t.upstream = known;
    }
    return known.ids.has(origin);
  }

  /** `id` and every node upstream of it, breadth first through the sources each has, had or is desired to have. */
  private walkUpstream(id: NodeId): Set<NodeId> {
    const seen = new Set<NodeId>([id]);
    const queue: NodeId[] = [id];
    const reach = (s: NodeId): void => {
      if (!seen.has(s)) {
        seen.add(s);
        queue.push(s);
      }
    };
    for (let i = 0; i < queue.length; i++) {
      const t = this.twins.get(queue[i] as NodeId);
      if (!t) continue;
      for (const s of t.formerSources) reach(s);
      for (const s of t.desired.sources) reach(s);
      for (const s of t.config?.sources ?? []) reach(s);
    }
    return seen;
  }

  /** Another twin holds exactly this stamp: the event is real (a pairing this run never saw). */
  private isKnownEvent(id: NodeId, stamp: Stamp): boolean {
    for (const t of this.twins.values()) {
      if (t.id !== id && t.reported && compareStamps(t.reported.stamp, stamp) === 0) return true;
    }
    return false;
  }
}

/**
 * Does the service know whom `t` follows, or followed when it wrote the report at hand? Only once it
 * has seen a config of the node (the broker replays configs before reports). Without one the node
 * is at config version 0 or the broker lost its config (an in-memory broker restarted while the
 * fleet was off, its reports put back by a control server that heard them), and its report may carry
 * any source's stamp: the node itself adopts a report put back on its topic whatever its origin
 * (protocol §5.3, vector `report-put-back-by-a-control-server-is-adopted`). Not `spoofed-origin`.
 */
export function sourcesKnown(t: TwinRecord): boolean {
  return t.config !== undefined;
}
