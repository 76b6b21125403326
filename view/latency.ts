/**
 * A window of recent sync latencies and its snapshot (percentiles and fixed-width buckets), for
 * sources that time deliveries themselves (the demo fleet, the live fleet as the twins see it).
 * Recording is O(1); the snapshot sorts the window and is taken once per frame at most.
 */
import { formatStamp } from "../protocol/index.js";
import type { Twin } from "../twins/index.js";
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

/**
 * Sync latency as the twins see it: from the origin's own report of an event to each follower's
 * report of the same stamp, recorded in a window. Keeps when each of the last `kept` events was first
 * reported by its origin.
 */
export class ReportTiming {
  private readonly originSeen = new Map<string, number>();

  constructor(
    private readonly window: Pick<LatencyWindow, "record">,
    private readonly kept = 20_000,
  ) {}

  /** A report of `twin`'s state, heard at `now`. */
  report(twin: Pick<Twin, "id" | "reported">, now: number): void {
    const stamp = twin.reported?.stamp;
    if (!stamp) return;
    const key = formatStamp(stamp);
    if (stamp.origin === twin.id) {
      if (!this.originSeen.has(key)) this.originSeen.set(key, now);
      if (this.originSeen.size > this.kept) {
        const oldest = this.originSeen.keys().next().value;
        if (oldest !== undefined) this.originSeen.delete(oldest);
      }
      return;
    }
    const at = this.originSeen.get(key);
    if (at !== undefined) this.window.record(now - at);
  }
}
