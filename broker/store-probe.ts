/**
 * The broker's test write of its data directory: a directory remounted read-only or filled while no
 * write is made (a quiet fleet: no retained message, will or subscription changes) was found only by
 * the next write, and `/healthz` said ok meanwhile. Every `everyMs` (30 s) on the injected Scheduler,
 * while no store write is failing and none is stalled (broker/store-writes.ts, broker/store-stall.ts:
 * `/healthz` says 503 already), a file `broker.probe.<pid>.<n>.tmp` is written, synced and removed
 * (node/dir-probe.ts, as the twins service does). One that fails is the data directory's failing
 * write: the same ERROR line and `/healthz` 503 (`data directory DIR cannot be written (EROFS: …,
 * open 'DIR/broker.probe.….tmp')`), tried again every `retryMs` (5 s) until one passes, or a store
 * write succeeds: then the "written again" line and 200. A test write that neither ends nor fails (a
 * frozen file system, a hung disk or network volume) is a store write under way that does not finish:
 * after 5 s it is the store's stall (broker/store-stall.ts), told and `/healthz` 503 as LevelDB's own
 * writes' is, until it ends. Before, nothing timed it: on a quiet fleet `/healthz` said ok for as long
 * as the disk stayed frozen.
 */
import { probeWritable } from "../node/dir-probe.js";
import { after, type Scheduler, type Timer } from "../node/scheduler.js";

export const STORE_PROBE_MS = 30_000;
/** While the test write fails: as the twins' saver retries a failed save. */
export const STORE_PROBE_RETRY_MS = 5_000;

/** What of the store's write watches the test write reads and reports to. */
export interface ProbedStore {
  /** Why the store cannot write now, if a write failed or stalls (then no test write is made). */
  readonly problem: string | undefined;
  /** A test write failed: reported as the store's failed write. */
  failed(what: string, err: unknown): void;
  /** A test write passed. */
  succeeded(): void;
  /**
   * A test write begins, and `ended` once it has settled either way: it is one of the store's writes
   * under way, timed as theirs are (broker/store-stall.ts), so one the disk does not answer is a stall.
   * `what` names it (`the test write of DIR`); `ended` takes the token `began` gave.
   */
  began(what: string): number;
  ended(token: number): void;
}

export interface StoreProbeOptions {
  readonly everyMs?: number;
  readonly retryMs?: number;
  /** The test write (tests give one that fails). */
  readonly probe?: (dir: string) => Promise<void>;
}

export class StoreProbe {
  private timer: Timer | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** The store's failure is this test write's own: another test write is what can clear it. */
  private failing = false;
  private readonly everyMs: number;
  private readonly retryMs: number;
  private readonly probe: (dir: string) => Promise<void>;

  constructor(
    private readonly dir: string,
    private readonly store: ProbedStore,
    private readonly scheduler: Scheduler,
    o: StoreProbeOptions = {},
  ) {
    this.everyMs = o.everyMs ?? STORE_PROBE_MS;
    this.retryMs = o.retryMs ?? STORE_PROBE_RETRY_MS;
    this.probe = o.probe ?? ((d) => probeWritable(d, "broker"));
    this.arm(this.everyMs);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Resolves when the test write under way (if any) has settled. */
  settled(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  private arm(ms: number): void {
    if (!this.stopped) this.timer = after(this.scheduler, ms, () => void this.run());
  }

  /** One test write (the timer's), unless a store write already fails or stalls. */
  run(): Promise<void> {
    // A store write that succeeded since a test write failed has cleared the failure.
    if (this.failing && this.store.problem === undefined) this.failing = false;
    if (this.running !== undefined) return this.running;
    if (this.store.problem !== undefined && !this.failing) {
      this.arm(this.everyMs);
      return Promise.resolve();
    }
    this.running = this.once().finally(() => {
      this.running = undefined;
      this.arm(this.failing ? this.retryMs : this.everyMs);
    });
    return this.running;
  }

  private async once(): Promise<void> {
    const token = this.store.began(`the test write of ${this.dir}`);
    try {
      await this.probe(this.dir);
      if (this.failing) this.store.succeeded();
      this.failing = false;
    } catch (err) {
      if (this.stopped) return;
      this.store.failed("test write", err);
      this.failing = true;
    } finally {
      this.store.ended(token);
    }
  }
}
