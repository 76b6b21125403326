/**
 * A window of recent sync latencies and its snapshot (percentiles and fixed-width buckets), for
 * sources that time deliveries themselves (the demo fleet, the live fleet as the twins see it).
 * Recording is O(1); the snapshot sorts the window and is taken once per frame at most.
 */
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
