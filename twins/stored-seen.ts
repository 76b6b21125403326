/**
 * Which twins' last-seen dates the store is behind on, and which of them to store first: the time
 * (on the scheduler's `now()`) of the last message each twin's stored record carries, kept in the
 * order the records were written, so a look finds those written longest ago first without sorting.
 * A restore, a snapshot and a record written for a change each say what they stored (`wrote`).
 * A minute's look (the saver's DATES_EVERY_MS) takes at most `limit` of them: the main thread
 * serialises every record it appends, so a fleet of 100,000 nodes
 * all heard held the event loop over a second each minute; bounded, a fleet of N nodes heard keeps
 * its stored dates at most ceil(N / limit) minutes behind.
 */
import type { NodeId } from "../protocol/index.js";
import { isStored, type TwinRecord } from "./twin-record.js";

export class StoredSeen {
  /** Twin → the `lastSeen` its stored record carries (undefined: none), the one written longest ago first. */
  private readonly order = new Map<NodeId, number | undefined>();

  /** `t`'s record was stored (a restore, a snapshot, a change's record) with its `lastSeen` of now. */
  wrote(t: TwinRecord): void {
    this.order.delete(t.id);
    this.order.set(t.id, t.lastSeen);
  }

  /** `id` is out of the store (its record undefined, or the twin forgotten). */
  dropped(id: NodeId): void {
    this.order.delete(id);
  }

  /**
   * At most `limit` twins heard later than their stored record says: first those whose record this
   * service never wrote nor restored, then the others, the one written longest ago first.
   */
  behind(twins: ReadonlyMap<NodeId, TwinRecord>, limit: number): NodeId[] {
    const out: NodeId[] = [];
    if (limit <= 0) return out;
    for (const t of twins.values())
      if (t.lastSeen !== undefined && !this.order.has(t.id) && isStored(t)) {
        out.push(t.id);
        if (out.length >= limit) return out;
      }
    for (const [id, stored] of this.order) {
      const t = twins.get(id);
      if (t === undefined)
        this.order.delete(id); // forgotten: out of the store with the next write
      else if (t.lastSeen !== undefined && t.lastSeen > (stored ?? Number.NEGATIVE_INFINITY)) {
        out.push(id);
        if (out.length >= limit) return out;
      }
    }
    return out;
  }
}
