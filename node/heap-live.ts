/**
 * This thread's JS heap as the garbage collector leaves it: the heap in use just after its last full
 * (mark-compact) collection — what is live, the garbage V8 lets grow towards the limit left out — and
 * the thread's heap limit. Each thread of a run reads its own and reports it with its lag, so that a
 * heap nearing its limit is told before the thread dies out of memory (fleet/heap-watch.ts).
 */
import { constants, PerformanceObserver } from "node:perf_hooks";
import { getHeapStatistics } from "node:v8";

export interface HeapReading {
  /** In use after the last full collection, MB; undefined before the first one. */
  readonly liveMB?: number;
  /** The thread's limit (V8's heap_size_limit), MB. */
  readonly limitMB: number;
}

const MB = 2 ** 20;

export class HeapLive {
  private liveBytes: number | undefined;
  private readonly observer = new PerformanceObserver((list) => {
    let major = false;
    for (const e of list.getEntries()) {
      const kind = (e as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) major = true;
    }
    if (!major) return;
    this.liveBytes = getHeapStatistics().used_heap_size;
    this.onMajor?.(this.read());
  });

  /** `onMajor`: told the new reading after each full collection. */
  constructor(private readonly onMajor?: (r: HeapReading) => void) {
    this.observer.observe({ entryTypes: ["gc"] });
  }

  read(): HeapReading {
    const limitMB = Math.round(getHeapStatistics().heap_size_limit / MB);
    return this.liveBytes === undefined ? { limitMB } : { liveMB: Math.round(this.liveBytes / MB), limitMB };
  }

  stop(): void {
    this.observer.disconnect();
  }
}
