/**
 * A data directory whose writes stop finishing without failing: a frozen file system (`fsfreeze`, an
 * LVM or cloud-volume snapshot), a hung SD card or disk, a network volume gone silent. LevelDB's
 * write() then blocks in the kernel; nothing fails, so the failed-writes log (broker/store-writes.ts)
 * says nothing and `/healthz` said ok, while aedes waits on those writes: no client got its CONNACK
 * (its will is stored first), and no publisher's message went out behind a retained one (stored
 * before it is sent, and a client's packets keep their order). Here every `everyMs` (1 s) the writes
 * under way are looked at; when none has finished for `stalledMs` (5 s) while some wait, one ERROR
 * says what stops and what to check, `/healthz` answers 503 and `store_up` is 0, until a write
 * finishes: then one line with how long it was stalled (while the broker stops, the stop's own line
 * once the writes it waited for are stored: broker/store-close-wait.ts). Both the ERROR and `/healthz` name the oldest
 * write waiting and how long it has (`14 waiting, the oldest a retained message for tf/report/n-3, for
 * 6.2 s`): they said `(14 waiting)` only, where the twins service named its write. Times come from the
 * injected Scheduler.
 */
import type { Logger } from "pino";
import { every, type Scheduler, type Timer } from "../node/scheduler.js";
import type { WriteUnderWay } from "../node/writes-under-way.js";

export const STORE_STALL_CHECK_MS = 1_000;
/**
 * 5 s: a LevelDB write takes well under a millisecond to reach the kernel (no sync), and LevelDB
 * holds writes back for a compaction for a second at most at a time; 5 s is the broker's Redis
 * silence too (broker/redis-health.ts).
 */
export const STORE_STALLED_MS = 5_000;

/** What of the store's writes the check reads (broker/store-writes.ts StoreWriteWatch). */
export interface WriteProgress {
  /** Writes under way now. */
  readonly writing: number;
  /** The write under way longest, named (`a retained message for TOPIC`), and since when (the scheduler's time). */
  readonly underWay: { oldest(): WriteUnderWay<string> | undefined };
}

/**
 * The writes waiting, and the oldest of them named with how long it has waited: `14 waiting, the
 * oldest a retained message for tf/report/n-3, for 6.2 s`.
 */
export function waitingText(writes: WriteProgress, now: number): string {
  const oldest = writes.underWay.oldest();
  if (oldest === undefined) return `${writes.writing} waiting`;
  return `${writes.writing} waiting, the oldest ${oldest.what}, for ${((now - oldest.since) / 1000).toFixed(1)} s`;
}

export interface StoreStallOptions {
  readonly everyMs?: number;
  readonly stalledMs?: number;
}

export class StoreStallWatch {
  private timer: Timer | undefined;
  /** Since when no write has finished (the last progress), while stalled. */
  private stalledSince: number | undefined;
  /** When a write last finished, or began while none was under way. */
  private progressAt: number;
  /** When the last check ran. */
  private checkedAt: number;
  private readonly stalledMs: number;
  private readonly everyMs: number;

  constructor(
    /** The store, as messages name it (`data directory ./broker-data`). */
    private readonly where: string,
    private readonly writes: WriteProgress,
    private readonly scheduler: Scheduler,
    private readonly logger: Logger,
    o: StoreStallOptions = {},
  ) {
    this.stalledMs = o.stalledMs ?? STORE_STALLED_MS;
    this.everyMs = o.everyMs ?? STORE_STALL_CHECK_MS;
    this.progressAt = scheduler.now();
    this.checkedAt = this.progressAt;
    this.timer = every(scheduler, this.everyMs, () => this.check());
  }

  /** While stalled: the store named, and for how long (for `/healthz`). */
  get problem(): string | undefined {
    if (this.stalledSince === undefined) return undefined;
    const now = this.scheduler.now();
    const s = Math.round((now - this.stalledSince) / 1000);
    return `${this.where} has finished no write for ${s} s (${waitingText(this.writes, now)}): its disk or file system is not answering`;
  }

  /**
   * The broker is stopping: nothing waits to go out any more, so the end of a stall is told by the
   * stop, once what it waited for is stored (broker/store-close-wait.ts), not as "goes out now".
   */
  stopping(): void {
    this.#stopping = true;
  }

  #stopping = false;
  /** Since when the store was stalled, for a stall told that ended while the broker was stopping. */
  endedWhileStopping: number | undefined;

  /** A write finished, or began while none was under way: the end of a stall, if one was told. */
  progressed(): void {
    this.progressAt = this.scheduler.now();
    if (this.stalledSince === undefined) return;
    const stalledMs = Math.round(this.scheduler.now() - this.stalledSince);
    if (this.#stopping) {
      this.endedWhileStopping ??= this.stalledSince;
      this.stalledSince = undefined;
      return;
    }
    this.stalledSince = undefined;
    this.logger.warn(
      { stalledMs },
      `${this.where} finishes writes again after ${(stalledMs / 1000).toFixed(1)} s stalled; what waited for them goes out now`,
    );
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** One look (the timer's; tests call it). */
  check(): void {
    const now = this.scheduler.now();
    const late = now - this.checkedAt > 2 * this.everyMs;
    this.checkedAt = now;
    if (this.stalledSince !== undefined || this.writes.writing === 0) return;
    // A check this late means the event loop was held (a long task, a host out of CPU): writes that
    // finished meanwhile have not been heard of yet, and their callbacks run after this timer's. The
    // time without progress counts from here, not from before the hold.
    if (late) {
      this.progressAt = Math.max(this.progressAt, now);
      return;
    }
    const since = this.progressAt;
    if (now - since < this.stalledMs) return;
    this.stalledSince = since;
    const oldest = this.writes.underWay.oldest();
    this.logger.error(
      {
        writing: this.writes.writing,
        stalledMs: Math.round(now - since),
        ...(oldest === undefined ? {} : { oldest: oldest.what, oldestMs: Math.round(now - oldest.since) }),
      },
      `${this.where} has finished no write for ${this.stalledMs / 1000} s (${waitingText(this.writes, now)}), ` +
        "and none has failed: its disk or file system is not answering. Until it does no client can connect (its will is stored " +
        "first), retained messages and those behind them are not delivered, and nothing is stored; " +
        "the broker keeps its connections. Check whether the file system is frozen (fsfreeze -u, a " +
        "snapshot under way), the disk hung or failing (dmesg), or a network volume cut off",
    );
  }
}
