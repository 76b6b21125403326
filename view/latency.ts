/**
 * A window of recent sync latencies and its snapshot (percentiles and fixed-width buckets), for
 * sources that time deliveries themselves (the demo fleet, the live fleet as the twins see it).
 * Recording is O(1); the snapshot sorts the window and is taken once per frame at most.
 */
import { compareStamps, formatStamp, type NodeId, type Stamp } from "../protocol/index.js";
import type { Twin, TwinChange } from "../twins/index.js";
import type { LatencySnapshot } from "./source.js";

export class LatencyWindow {
  private readonly values: number[] = [];
  private next = 0;

  constructor(
    private readonly capacity = 4000,
    private readonly bucketMs = 50,
    private readonly bucketCount = 60,
  ) {}

  record(ms: number): void {
    if (this.values.length < this.capacity) this.values.push(ms);
    else this.values[this.next] = ms;
    this.next = (this.next + 1) % this.capacity;
  }

  snapshot(): LatencySnapshot {
    const sorted = [...this.values].sort((a, b) => a - b);
    const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
    const buckets: number[] = new Array(this.bucketCount).fill(0);
    let overflow = 0;
    for (const v of sorted) {
      const b = Math.floor(v / this.bucketMs);
      if (b < this.bucketCount) buckets[b] = (buckets[b] ?? 0) + 1;
      else overflow++;
    }
    return { count: sorted.length, p50Ms: at(50), p99Ms: at(99), bucketMs: this.bucketMs, buckets, overflow };
  }
}

/** What the timing reads of a twin. */
type Timed = Pick<Twin, "id" | "reported" | "follows" | "presence">;

/**
 * Sync latency as the twins see it: from the origin's own report of an event to each follower's
 * report of the same stamp, recorded in a window. Keeps when each of the last `kept` events was first
 * reported by its origin.
 *
 * A delivery is timed from when the stamp could first reach the follower: the origin's report, or
 * later when a pairing on its way took effect after it. A follower newly following a source (a pair,
 * a ring made a chain; its config naming the source, as the twins heard it) gets the source's
 * retained state at once, perhaps minutes old: that delivery is timed from the config, not from the
 * origin's report long before the pairing existed. So is every delivery further down that the new
 * pairing alone brought (a follower of that follower gets the stamp through it, from the same
 * moment). Through several sources the earliest wins: the stamp was there to take from then. A
 * follower coming back online is the same: its sources take effect again from then (how long it was
 * away is its presence's to tell, as for `twinfleet_sync_behind_max_seconds`).
 *
 * A report that stood when the service subscribed (at its start or after a reconnect: the broker's
 * retained copy, or the node's answer to the service's query; `replayed` on `twin-updated`) is no
 * delivery: when it was made is unknown, and timing it from its origin's report heard the same way
 * would record only the order they came in (mostly 0 ms). It is left out, and a stamp whose origin's
 * report came so times no later delivery either.
 */
export class ReportTiming {
  private readonly originSeen = new Map<string, number>();
  /** Per stamp kept: the followers that could only get it after its origin's report, and from when. */
  private readonly lateFrom = new Map<string, Map<NodeId, number>>();
  /**
   * Per follower with sources: when each of them took effect (first seen, named in a new config, or
   * the follower back online).
   */
  private readonly links = new Map<NodeId, Map<NodeId, number>>();

  /**
   * `reportOf`: a node's report now (the twins' `get`), to tell which of a follower's sources holds
   * the stamp it took; asked only about a follower whose pairing is newer than the stamp's report, or
   * about a stamp some node could only get late.
   */
  constructor(
    private readonly window: Pick<LatencyWindow, "record">,
    private readonly reportOf: (id: NodeId) => Pick<Twin, "reported"> | undefined = () => undefined,
    private readonly kept = 20_000,
  ) {}

  /**
   * Any news of `twin` heard at `now` (the twins' `twin-updated`): its sources, and a report timed
   * unless `replayed` (it stood when the service subscribed).
   */
  updated(twin: Timed, change: TwinChange, now: number, replayed = false): void {
    this.sources(twin, now);
    if (change === "report" && !replayed) this.report(twin, now);
    else if (change === "presence" && twin.presence === "online") {
      // Back online: it could take nothing through its sources while away.
      const mine = this.links.get(twin.id);
      if (mine) for (const s of mine.keys()) mine.set(s, now);
    }
  }

  /**
   * `id` is gone from the fleet (retired, or forgotten for room at --max-nodes): when its sources took
   * effect goes with it. A retired node still follows its sources when it is forgotten, and was kept
   * as a follower for as long as the service ran.
   */
  forget(id: NodeId): void {
    this.links.delete(id);
  }

  /** Followers whose sources' times are kept (for tests). */
  get followers(): number {
    return this.links.size;
  }

  /** A report of `twin`'s state, heard at `now`. */
  private report(twin: Timed, now: number): void {
    const stamp = twin.reported?.stamp;
    if (!stamp) return;
    const key = formatStamp(stamp);
    if (stamp.origin === twin.id) {
      if (!this.originSeen.has(key)) this.originSeen.set(key, now);
      if (this.originSeen.size > this.kept) {
        const oldest = this.originSeen.keys().next().value;
        if (oldest !== undefined) {
          this.originSeen.delete(oldest);
          this.lateFrom.delete(oldest);
        }
      }
      return;
    }
    const at = this.originSeen.get(key);
    if (at === undefined) return;
    const from = this.reachableFrom(twin, stamp, key, at);
    if (from > at) {
      const late = this.lateFrom.get(key) ?? new Map<NodeId, number>();
      late.set(twin.id, from);
      this.lateFrom.set(key, late);
    }
    this.window.record(now - from);
  }

  /** Notes a source the follower did not have before as taking effect `now`; forgets those it dropped. */
  private sources(twin: Pick<Twin, "id" | "follows">, now: number): void {
    const had = this.links.get(twin.id);
    if (twin.follows.length === 0) {
      if (had) this.links.delete(twin.id);
      return;
    }
    if (had === undefined) {
      this.links.set(twin.id, new Map(twin.follows.map((s) => [s, now])));
      return;
    }
    for (const s of had.keys()) if (!twin.follows.includes(s)) had.delete(s);
    for (const s of twin.follows) if (!had.has(s)) had.set(s, now);
  }

  /**
   * When `stamp` (first reported by its origin at `at`) could first reach `twin`: through each of its
   * sources that holds it, the later of when that source had it and when the follower's pairing
   * with it took effect; the earliest of those. A source holds it when it is the origin, got it
   * late itself (kept), or reports it or newer now. None found: the latest of its pairings.
   */
  private reachableFrom(twin: Timed, stamp: Stamp, key: string, at: number): number {
    const mine = this.links.get(twin.id);
    const late = this.lateFrom.get(key);
    if (mine === undefined) return at;
    let newest = at;
    for (const linked of mine.values()) newest = Math.max(newest, linked);
    if (late === undefined && newest === at) return at;
    let earliest = Number.POSITIVE_INFINITY;
    for (const [s, linked] of mine) {
      const had = s === stamp.origin ? at : (late?.get(s) ?? (this.holds(s, stamp) ? at : undefined));
      if (had !== undefined) earliest = Math.min(earliest, Math.max(had, linked));
    }
    return Number.isFinite(earliest) ? earliest : newest;
  }

  private holds(source: NodeId, stamp: Stamp): boolean {
    const held = this.reportOf(source)?.reported?.stamp;
    return held !== undefined && compareStamps(held, stamp) >= 0;
  }
}
