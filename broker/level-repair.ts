/**
 * The LevelDB store once writes succeed again after failing (a full disk). LevelDB's log writer
 * counts the bytes of a record whose write failed as written, so the log file holds a hole, and on
 * the next start LevelDB drops every record after it: all that was written since the disk filled,
 * though each of those writes reported success. Measured with classic-level on a full tmpfs: 1,000
 * keys, 189 puts failed, space freed, 800 more puts; after a reopen 1,011 of the 2,000 keys were
 * there. So when a write succeeds again, the topics whose retained writes failed meanwhile are
 * stored once more, as the broker holds them now, then the memory table is compacted into a table
 * file, which retires that log (CompactRange flushes the memory table first and starts a new log):
 * the same test then keeps 1,811. A failed table write stops LevelDB until it is opened again: the
 * repair then reopens it first, once there is room (broker/level-reopen.ts). Its compaction and
 * reopening are among the store's writes under way, so a disk that stops answering under them is
 * named by the stall and by a stop that waits for them (broker/store-close-wait.ts).
 */
import type { Logger } from "pino";
import { isTableWriteError, roomToReopen } from "./level-reopen.js";
import { monotonicNow } from "./store-writes.js";

/** What the repair needs of the database: classic-level's compactRange, close and open. */
export interface RepairableDb {
  readonly status: string;
  compactRange(start: string, end: string): Promise<void>;
  close(): Promise<void>;
  open(): Promise<void>;
}

/**
 * The store's writes under way (broker/store-writes.ts StoreWriteWatch): the repair's own disk work
 * is among them, so a stall names it and a stop on a frozen disk says it waits for it.
 */
export interface WriteTracker {
  begin(what: string): number;
  end(token: number): void;
}

/** How often a database stopped by a failed table write is checked for room to reopen it. */
const REOPEN_CHECK_MS = 10_000;

/** The whole key space, as UTF-8 strings compare: every key of the store lies within. */
const FIRST_KEY = "\u0000";
const LAST_KEY = "\u{10FFFF}\u{10FFFF}";

/** After a failed compaction, the next try waits this long (a disk with room for the log but not a table). */
const RETRY_COMPACT_MS = 60_000;

export class LevelRepair {
  /** The topics whose retained writes failed and that no later write of theirs replaced. */
  readonly #pending = new Set<string>();
  /** A write failed since the last repair: the log has a hole. */
  #needed = false;
  #running: Promise<void> | undefined;
  #retryAt = Number.NEGATIVE_INFINITY;
  /** A table write failed: LevelDB takes no write until it is opened again. */
  #stopped = false;
  #reopenCheckAt = Number.NEGATIVE_INFINITY;
  #reopenFailureTold = false;
  /** Stores a topic's retained message again as the broker holds it (false: that write failed too). */
  #store: (topic: string) => Promise<boolean> = async () => false;

  constructor(
    private readonly db: RepairableDb,
    private readonly dataDir: string,
    private readonly where: string,
    private readonly logger: Logger,
    private readonly now: () => number = monotonicNow,
    private readonly writes?: WriteTracker,
  ) {}

  /** `work` on the disk, among the store's writes under way while it lasts. */
  async #tracked<T>(what: string, work: () => Promise<T>): Promise<T> {
    const token = this.writes?.begin(what);
    try {
      return await work();
    } finally {
      if (token !== undefined) this.writes?.end(token);
    }
  }

  /** How a pending topic is stored again: through the store's own guarded write (store-writes.ts). */
  storeWith(store: (topic: string) => Promise<boolean>): void {
    this.#store = store;
  }

  /**
   * A write to the store failed with `err` (a retained message's: its topic is stored again). Once
   * LevelDB is stopped by a failed table write, it is reopened when there is room (checked every
   * 10 s while writes keep failing), then repaired.
   */
  failed(retainedTopic?: string, err?: unknown): void {
    this.#needed = true;
    if (retainedTopic !== undefined) this.#pending.add(retainedTopic);
    if (isTableWriteError(err)) this.#stopped = true;
    const t = this.now();
    if (!this.#stopped || this.#running !== undefined || t < this.#reopenCheckAt) return;
    this.#reopenCheckAt = t + REOPEN_CHECK_MS;
    this.start(() => this.reopen());
  }

  /**
   * A write succeeded (a retained message's: its topic is stored). After failures, starts the
   * repair: each pending topic stored again as the broker holds it now, then the compaction.
   */
  succeeded(retainedTopic?: string): void {
    if (retainedTopic !== undefined) this.#pending.delete(retainedTopic);
    if (!this.#needed || this.#running !== undefined || this.now() < this.#retryAt) return;
    this.#needed = false;
    this.start(() => this.run());
  }

  /** One reopen or repair at a time. */
  private start(work: () => Promise<void>): void {
    this.#running = work().finally(() => {
      this.#running = undefined;
    });
  }

  /** Settles once no repair is under way (closing waits for it). */
  async settled(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  private async reopen(): Promise<void> {
    const room = await roomToReopen(this.dataDir).catch(() => undefined);
    if (room === undefined || !room.ok) return; // the failure log says each minute that writes fail
    try {
      await this.#tracked(`the reopening of ${this.dataDir} after a failed table write`, async () => {
        if (this.db.status === "open") await this.db.close();
        await this.db.open();
      });
    } catch (err) {
      if (!this.#reopenFailureTold) {
        this.#reopenFailureTold = true;
        this.logger.error(
          { err: (err as Error).message },
          `${this.where} could not be opened again after a failed table write (tried every 10 s while writes fail): restart the broker once there is room`,
        );
      }
      return;
    }
    this.#stopped = false;
    this.#reopenFailureTold = false;
    this.logger.warn(
      { freeMB: Math.round(room.freeBytes / 1048576) },
      `${this.where} opened again: a failed table write had stopped LevelDB taking any write until then`,
    );
    this.#needed = false;
    await this.run();
  }

  private async run(): Promise<void> {
    let restored = 0;
    for (const topic of [...this.#pending]) {
      // Written meanwhile by a newer message of the topic: done.
      if (!this.#pending.has(topic)) continue;
      // Failing again (reported, and the repair needed again): the next success repairs.
      if (!(await this.#store(topic))) return;
      this.#pending.delete(topic);
      restored += 1;
    }
    try {
      await this.#tracked(`the compaction of ${this.dataDir}'s log after failed writes`, () =>
        this.db.compactRange(FIRST_KEY, LAST_KEY),
      );
    } catch (err) {
      this.#needed = true;
      this.#retryAt = this.now() + RETRY_COMPACT_MS;
      this.logger.error(
        { err: (err as Error).message },
        `${this.where}: the log written across the failed writes could not be compacted (tried again in a minute); what was written since may be lost if the broker stops`,
      );
      return;
    }
    this.logger.warn(
      { restored },
      `${this.where}: the retained messages whose writes failed are stored again and the log written across the failure is compacted into a table (LevelDB would drop what followed a failed write on its next start)`,
    );
  }
}
