/**
 * How far behind the run's threads fell: each worker thread's event-loop lag as it reports it, and
 * the main thread's (the broker, the twins service, the console) sampled here. Lag above
 * KEPT_UP_LAG_MS means the host, not the fleet, set the pace.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";

/** Event-loop lag above this (p99, ms) means the host, not the fleet, set the pace. */
export const KEPT_UP_LAG_MS = 50;

export interface Lag {
  readonly p99Ms: number;
  readonly maxMs: number;
}

export class LagMonitor {
  private readonly shards = new Map<number, Lag>();
  private readonly here = monitorEventLoopDelay({ resolution: 10 });

  constructor() {
    this.here.enable();
  }

  /** A worker thread's latest figures (they are cumulative: the newest replaces the last). */
  worker(shard: number, p99Ms: number, maxMs: number): void {
    this.shards.set(shard, { p99Ms, maxMs });
  }

  /** The worst worker thread: the simulated nodes' own clock. */
  workers(): Lag {
    let p99Ms = 0;
    let maxMs = 0;
    for (const l of this.shards.values()) {
      p99Ms = Math.max(p99Ms, l.p99Ms);
      maxMs = Math.max(maxMs, l.maxMs);
    }
    return { p99Ms, maxMs };
  }

  /** The main thread: the broker, the twins service and (in a terminal) the console. */
  main(): Lag {
    return { p99Ms: this.here.percentile(99) / 1e6, maxMs: this.here.max / 1e6 };
  }

  /** p99 lag in ms by thread: `main`, and `worker-N` for each shard that reported. */
  byThread(): Record<string, number> {
    const out: Record<string, number> = { main: this.main().p99Ms };
    for (const [shard, l] of this.shards) out[`worker-${shard}`] = l.p99Ms;
    return out;
  }

  worst(): Lag {
    const w = this.workers();
    const m = this.main();
    return { p99Ms: Math.max(w.p99Ms, m.p99Ms), maxMs: Math.max(w.maxMs, m.maxMs) };
  }

  stop(): void {
    this.here.disable();
  }
}

/** The worst worker's and the main thread's lag for the report; none at all on virtual time. */
export function lagOf(m: LagMonitor | undefined): { worker: Lag; main: Lag } {
  const none = { p99Ms: 0, maxMs: 0 };
  return { worker: m?.workers() ?? none, main: m?.main() ?? none };
}
