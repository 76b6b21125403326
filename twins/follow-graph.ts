/**
 * Who follows whom, as the registry sees it: the followers index kept in step with the reported
 * configs (so a twin's view lists its followers in O(1)), and the provenance checks a report's stamp
 * must pass — its origin is the node itself or upstream of it through any sources it has, had or is
 * desired to have, or another twin holds exactly that stamp.
 */
import { compareStamps, type NodeId, type Stamp } from "../protocol/index.js";
import { followed, type TwinRecord } from "./twin-record.js";

export class FollowGraph {
  private readonly followersOf = new Map<NodeId, Set<NodeId>>();

  constructor(private readonly twins: ReadonlyMap<NodeId, TwinRecord>) {}

  /** The nodes whose reported config follows `id`. */
  followers(id: NodeId): NodeId[] {
    return [...(this.followersOf.get(id) ?? [])];
  }

  /** Keeps the followers index in step with whom `t` follows, after `before`. */
  refollow(t: TwinRecord, before: readonly NodeId[]): void {
    for (const src of before) this.followersOf.get(src)?.delete(t.id);
    for (const src of followed(t)) {
      const set = this.followersOf.get(src);
      if (set) set.add(t.id);
      else this.followersOf.set(src, new Set([t.id]));
    }
  }

  /** May node `id` hold a stamp from `origin`: itself, upstream of it, or a stamp another twin holds? */
  mayCarry(id: NodeId, stamp: Stamp): boolean {
    return stamp.origin === id || this.upstream(id, stamp.origin) || this.isKnownEvent(id, stamp);
  }

  /** Is `origin` reachable upstream of `id` through any sources it has or had? */
  private upstream(id: NodeId, origin: NodeId): boolean {
    const seen = new Set<NodeId>([id]);
    const queue: NodeId[] = [id];
    const reaches = (s: NodeId): boolean => {
      if (s === origin) return true;
      if (!seen.has(s)) {
        seen.add(s);
        queue.push(s);
      }
      return false;
    };
    // Breadth first, without a set of each node's sources: runs for nearly every report.
    for (let i = 0; i < queue.length; i++) {
      const t = this.twins.get(queue[i] as NodeId);
      if (!t) continue;
      for (const s of t.formerSources) if (reaches(s)) return true;
      for (const s of t.desired.sources) if (reaches(s)) return true;
      for (const s of t.config?.sources ?? []) if (reaches(s)) return true;
    }
    return false;
  }

  /** Another twin holds exactly this stamp: the event is real (a pairing this run never saw). */
  private isKnownEvent(id: NodeId, stamp: Stamp): boolean {
    for (const t of this.twins.values()) {
      if (t.id !== id && t.reported && compareStamps(t.reported.stamp, stamp) === 0) return true;
    }
    return false;
  }
}
