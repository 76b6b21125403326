/**
 * How far behind the run's threads fell: each worker thread's event-loop lag as it reports it, the
 * main thread's (the twins service, the collector, the console) sampled here, and that of other
 * threads of the run (the embedded broker's) as they report it. Lag above KEPT_UP_LAG_MS at p99, or
 * one stall of KEPT_UP_STALL_MS, on any thread means the host, not the fleet, set the pace.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { HeapLive, type HeapReading } from "../node/heap-live.js";
import { RecentLag } from "../node/recent-lag.js";
import { HeapWatch } from "./heap-watch.js";

/** Event-loop lag above this (p99, ms) means the host, not the fleet, set the pace. */
export const KEPT_UP_LAG_MS = 50;
/**
 * One stall this long (max, ms) on any thread means the same, however short the rest: it is the
 * time after which a delivery counts as late, so the simulator alone could have made it late. A
 * process stopped for 20 s (SIGSTOP, a VM paused) showed p99 19.7 ms, max 20,015 ms, and was
 * reported as keeping up while its 80 reconnects and 1.5 s sync p99 were its own doing.
 */
export const KEPT_UP_STALL_MS = 5_000;

/** Whether a run's worst thread (p99 and max over every thread) kept up. */
export function keptUp(
  worst: { readonly p99Ms: number; readonly maxMs: number },
  p99LimitMs = KEPT_UP_LAG_MS,
): boolean {
  return worst.p99Ms < p99LimitMs && worst.maxMs < KEPT_UP_STALL_MS;
}

export interface Lag {
  readonly p99Ms: number;
  readonly maxMs: number;
}

/**
 * Another thread's latest lag figures (cumulative, and its p99 since its previous report), and its
 * heap; undefined until it has reported.
 */
export type LagSource = () =>
  | (Lag & { readonly recentP99Ms?: number; readonly heap?: HeapReading })
  | undefined;

export class LagMonitor {
  private readonly shards = new Map<number, Lag>();
  private readonly here = monitorEventLoopDelay({ resolution: 10 });
  /** Each worker's lag p99 since its previous report. */
  private readonly recent = new Map<number, number>();
  /** The main thread's heap, read when a worker reports (every second). */
  private readonly heapHere: HeapLive | undefined;
  private readonly heaps: HeapWatch | undefined;

  /**
   * `others`: threads beside the main one and the node workers, by name (`broker`); `hereRecent`: the
   * main thread's lag since the last recentByThread(); `heapWarn`: told of a thread's heap near its
   * limit (fleet/heap-watch.ts; the main thread's and the others' looked at each time a worker reports).
   */
  constructor(
    private readonly others: Readonly<Record<string, LagSource>> = {},
    private readonly hereRecent: Pick<RecentLag, "takeP99Ms" | "stop"> = new RecentLag(),
    heapWarn?: (line: string) => void,
  ) {
    this.here.enable();
    this.heaps = heapWarn ? new HeapWatch(heapWarn) : undefined;
    this.heapHere = heapWarn ? new HeapLive() : undefined;
  }

  /** A worker thread's latest figures (they are cumulative: the newest replaces the last). */
  worker(shard: number, p99Ms: number, maxMs: number, recentP99Ms?: number, heap?: HeapReading): void {
    this.shards.set(shard, { p99Ms, maxMs });
    if (recentP99Ms !== undefined) this.recent.set(shard, recentP99Ms);
    if (this.heaps === undefined) return;
    this.heaps.observe(`worker-${shard}`, heap);
    this.heaps.observe("main", this.heapHere?.read());
    for (const [name, source] of Object.entries(this.others)) this.heaps.observe(name, source()?.heap);
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

  /** The main thread: the twins service, the collector and (in a terminal) the console. */
  main(): Lag {
    return { p99Ms: this.here.percentile(99) / 1e6, maxMs: this.here.max / 1e6 };
  }

  /** A named other thread's latest figures (`broker`), if it has reported. */
  other(name: string): Lag | undefined {
    const l = this.others[name]?.();
    return l ? { p99Ms: l.p99Ms, maxMs: l.maxMs } : undefined;
  }

  /** p99 lag in ms by thread: `main`, each other thread that reported, and `worker-N` per shard. */
  byThread(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.threads()).map(([name, l]) => [name, l.p99Ms]));
  }

  /**
   * p99 lag in ms by thread now, by the names of byThread(): each worker's and other thread's since
   * its previous report (every second), the main thread's since the previous call (a scrape). byThread()
   * is since each thread started: after an hour, a minute of 100 ms stalls moves it by little, and
   * once they are over it keeps them for as long again.
   */
  recentByThread(): Record<string, number> {
    const out: Record<string, number> = { main: this.hereRecent.takeP99Ms() };
    for (const [name, source] of Object.entries(this.others)) {
      const l = source();
      if (l) out[name] = l.recentP99Ms ?? l.p99Ms;
    }
    for (const [shard, l] of this.shards) out[`worker-${shard}`] = this.recent.get(shard) ?? l.p99Ms;
    return out;
  }

  /** Every thread's lag, by the names of byThread(). */
  threads(): Record<string, Lag> {
    const out: Record<string, Lag> = { main: this.main() };
    for (const name of Object.keys(this.others)) {
      const l = this.other(name);
      if (l) out[name] = l;
    }
    for (const [shard, l] of this.shards) out[`worker-${shard}`] = l;
    return out;
  }

  worst(): Lag {
    let p99Ms = 0;
    let maxMs = 0;
    for (const l of Object.values(this.threads())) {
      p99Ms = Math.max(p99Ms, l.p99Ms);
      maxMs = Math.max(maxMs, l.maxMs);
    }
    return { p99Ms, maxMs };
  }

  stop(): void {
    this.here.disable();
    this.hereRecent.stop();
    this.heapHere?.stop();
  }
}

export interface RunLag {
  /** The worst node worker thread. */
  readonly worker: Lag;
  readonly main: Lag;
  /** The embedded broker's thread; absent when the broker is not a thread of this process. */
  readonly broker?: Lag;
  /** Every thread by name (`main`, `broker`, `worker-N`); empty on virtual time. */
  readonly threads: Readonly<Record<string, Lag>>;
}

/** The threads' lag for the report; none at all on virtual time. */
export function lagOf(m: LagMonitor | undefined): RunLag {
  const none = { p99Ms: 0, maxMs: 0 };
  const broker = m?.other("broker");
  return {
    worker: m?.workers() ?? none,
    main: m?.main() ?? none,
    ...(broker ? { broker } : {}),
    threads: m?.threads() ?? {},
  };
}

/** The lag sources of a run's broker: its thread's, when it runs in one of this process. */
export function brokerLag(b: { lag?(): ReturnType<LagSource> }): Record<string, LagSource> {
  const lag = b.lag?.bind(b);
  return lag ? { broker: lag } : {};
}
