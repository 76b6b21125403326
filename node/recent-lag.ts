/**
 * Event-loop lag over a recent window: a `monitorEventLoopDelay` histogram read and emptied at each
 * look, so what it gives is the lag since the previous look (the lag now, for `/metrics`), not since the
 * thread started (which a run's report and its kept-up verdict keep, each thread from its own monitor).
 */
import { type IntervalHistogram, monitorEventLoopDelay } from "node:perf_hooks";

export class RecentLag {
  private readonly h: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });

  constructor() {
    this.h.enable();
  }

  /** p99 of the event-loop delay since the previous call (or the start), ms; 0 with no sample. */
  takeP99Ms(): number {
    const ms = this.h.count > 0 ? this.h.percentile(99) / 1e6 : 0;
    this.h.reset();
    return ms;
  }

  stop(): void {
    this.h.disable();
  }
}
