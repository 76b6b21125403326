/**
 * The broker's stop (SIGTERM, Ctrl-C) waiting on a data directory whose disk does not answer (a
 * frozen file system, a hung disk or network volume). The store closes only once its writes under
 * way have ended (LevelDB's close waits for them, and the test write is awaited), so on a frozen disk
 * the stop waits until the disk answers. Before, it waited in silence: 15 s and more with nothing in
 * the log after SIGTERM, the process still there. Now, once the oldest write the stop waits for has
 * waited `STORE_STALLED_MS` (at once if it already has), one WARN says what the stop waits for (how
 * many writes, the oldest named, how long), that a second SIGTERM does not cut it short, and what
 * SIGKILL would lose. Looked at on the injected Scheduler from the stop's beginning (the clients'
 * last-seen times are saved before the store's close: broker/session-expiry.ts) until the store has
 * closed: when the oldest write under way turns 5 s old, or each second while none is under way.
 * Looked at once a second from the stop's beginning, the WARN came up to a second after the write's
 * 5 s, and a stall the store's own watch told meanwhile could end before it (the stop's end line
 * then named a wait the stop had not told). Once the writes it waited for are stored, one line says so and that the broker
 * stops: the running broker's "finishes writes again … what waited for them goes out now" said
 * what a stop no longer does.
 */
import type { Logger } from "pino";
import type { Scheduler, Timer } from "../node/scheduler.js";
import { STORE_STALL_CHECK_MS, STORE_STALLED_MS, type WriteProgress, waitingText } from "./store-stall.js";

/** What SIGKILL costs while the stop waits on the disk, and what it does not cure. */
export const KILL_WHILE_STALLED =
  "SIGKILL (kill -9) stops the broker without them: those writes and the ones queued behind them are " +
  "lost (the next start has what the disk held before), and the process stays until the disk answers " +
  "(a write the kernel holds keeps its last thread); a second SIGTERM does not cut the wait short";

export class StoreCloseWait {
  private timer: Timer | undefined;
  private readonly began: number;

  constructor(
    /** The store, as messages name it (`data directory mnt/b`). */
    private readonly where: string,
    private readonly writes: WriteProgress,
    private readonly scheduler: Scheduler,
    private readonly logger: Logger,
  ) {
    this.began = scheduler.now();
    this.check();
  }

  /**
   * The writes the stop waited for have all ended, and the database closes now. Told if the stop said
   * it waited, or a stall told (broker/store-stall.ts) ended while it stopped (`stalledSince`).
   */
  stored(stalledSince?: number): void {
    this.stop();
    const since = Math.min(
      this.#toldSince ?? Number.POSITIVE_INFINITY,
      stalledSince ?? Number.POSITIVE_INFINITY,
    );
    if (since === Number.POSITIVE_INFINITY) return;
    const now = this.scheduler.now();
    const stalledMs = Math.round(now - since);
    this.logger.warn(
      { stalledMs, waitedMs: Math.round(now - this.began) },
      `stopping: ${this.where} answered again after ${(stalledMs / 1000).toFixed(1)} s: the writes the ` +
        "stop waited for are stored; stopping",
    );
  }

  /** Since when the oldest write the stop told of had waited. */
  #toldSince: number | undefined;

  /** The store has closed (or the stop gave up on it): nothing more to tell. */
  stop(): void {
    this.#pending = false;
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Not told yet: once the oldest write under way is `STORE_STALLED_MS` old, at that age. */
  #pending = true;

  private check(): void {
    this.timer = undefined;
    if (!this.#pending) return;
    const oldest = this.writes.underWay.oldest();
    const now = this.scheduler.now();
    if (oldest === undefined || now - oldest.since < STORE_STALLED_MS) {
      // Looked at again when the oldest would be 5 s old (one begun meanwhile is younger), or in a second.
      const due = oldest === undefined ? now + STORE_STALL_CHECK_MS : oldest.since + STORE_STALLED_MS;
      this.timer = this.scheduler.at(due, () => this.check());
      return;
    }
    this.stop();
    this.#toldSince = oldest.since;
    const waitedMs = Math.round(now - this.began);
    this.logger.warn(
      {
        writing: this.writes.writing,
        oldest: oldest.what,
        oldestMs: Math.round(now - oldest.since),
        waitedMs,
      },
      `stopping: the broker waits for ${this.where} to finish the writes its disk has not answered ` +
        `(${waitingText(this.writes, now)}), and ends once they do: free the disk (fsfreeze -u, the ` +
        `snapshot's end, the volume back). ${KILL_WHILE_STALLED}`,
    );
  }
}
