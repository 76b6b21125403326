/**
 * The LevelDB store once writes succeed again after failing (a full disk). LevelDB's log writer
 * counts the bytes of a record whose write failed as written, so the log file holds a hole, and on
 * the next start LevelDB drops every record after it: all that was written since the disk filled,
 * though each of those writes reported success. Measured with classic-level on a full tmpfs: 1,000
 * keys, 189 puts failed, space freed, 800 more puts; after a reopen 1,011 of the 2,000 keys were
 * there. So when a write succeeds again, the topics whose retained writes failed meanwhile are
 * stored once more, as the broker holds them now, then the memory table is compacted into a table
 * file, which retires that log (CompactRange flushes the memory table first and starts a new log):
 * the same test then keeps 1,811.
 */
import type { Logger } from "pino";

/** What the repair needs of the database: classic-level's compactRange. */
export interface CompactableDb {
  compactRange(start: string, end: string): Promise<void>;
}

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

  constructor(
    private readonly db: CompactableDb,
    private readonly where: string,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** A write to the store failed (a retained message's: its topic is stored again). */
  failed(retainedTopic?: string): void {
    this.#needed = true;
    if (retainedTopic !== undefined) this.#pending.add(retainedTopic);
  }

  /**
   * A write succeeded (a retained message's: its topic is stored). After failures, starts the
   * repair: each pending topic stored with `store` as the broker holds it now (false: it failed, and
   * was reported as any write), then the compaction. One at a time.
   */
  succeeded(store: (topic: string) => Promise<boolean>, retainedTopic?: string): void {
    if (retainedTopic !== undefined) this.#pending.delete(retainedTopic);
    if (!this.#needed || this.#running !== undefined || this.now() < this.#retryAt) return;
    this.#needed = false;
    this.#running = this.run(store).finally(() => {
      this.#running = undefined;
    });
  }

  /** Settles once no repair is under way (closing waits for it). */
  async settled(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  private async run(store: (topic: string) => Promise<boolean>): Promise<void> {
    let restored = 0;
    for (const topic of [...this.#pending]) {
      // Written meanwhile by a newer message of the topic: done.
      if (!this.#pending.has(topic)) continue;
      // Failing again (reported, and the repair needed again): the next success repairs.
      if (!(await store(topic))) return;
      this.#pending.delete(topic);
      restored += 1;
    }
    try {
      await this.db.compactRange(FIRST_KEY, LAST_KEY);
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
