/**
 * Writing the convergence history as the service runs (twins/history-file.ts holds the file's
 * format, twins/history-restore.ts reads it back at a start). The points the feed adds are buffered
 * and appended every `HISTORY_FLUSH_MS` (an `alive` line when nothing was written for
 * `HISTORY_ALIVE_MS`): a kill -9 loses at most the points of the last 5 s, and the gap it leaves
 * starts at most a minute early. The file is rewritten whole at the start, when it holds twice the
 * series in lines, and after a failed write (which may have left a torn line), and when the file is
 * gone (removed while it ran: appending would start a file without its header). The long tier's
 * minutes (twins/minute-tier.ts) are appended as each closes, the broker's outages
 * (twins/broker-spans.ts) as each opens and ends. Failures are said and never stop the service; a
 * write that hangs is told, and a stop waits for it (no process ends before its write does).
 */
import type { Logger } from "pino";
import { FailureLog } from "../node/failure-log.js";
import { afterRunning, ranSince, type StallWatch } from "../node/stall-watch.js";
import type { AwaySpan } from "./broker-spans.js";
import { every, type Scheduler, type Timer } from "./clock.js";
import { SAVE_STALLED_MS } from "./disk-stall.js";
import {
  AWAY_FORMAT,
  aliveLine,
  appendHistory,
  awayLine,
  formatFor,
  HISTORY_ALIVE_MS,
  minuteLine,
  pointFormat,
  pointLine,
  rewriteHistory,
  stopLine,
} from "./history-file.js";
import { type KeptHistory, msOffset } from "./history-restore.js";
import { MINUTES_KEPT, type MinutePoint } from "./minute-tier.js";
import { isErrno } from "./store-lock.js";
import type { SeriesPoint } from "./types.js";

/** While the history's writes fail: since when (the scheduler's time), its file, and why. */
export interface HistoryUnwritten {
  readonly since: number;
  readonly file: string;
  readonly cause: string;
}

/**
 * A write of the history not ended after this long counts as a failed one (a frozen disk: `fsfreeze`,
 * a hung disk or network volume, where nothing fails), until it ends: the saver's (disk-stall.ts).
 * Only the time the service ran counts (its own stalls, node/stall-watch.ts, do not), as the saver's.
 */
export const HISTORY_STALLED_MS = SAVE_STALLED_MS;

/** How often the points added since the last write are appended. */
export const HISTORY_FLUSH_MS = 5_000;

/** Appends the feed's points to the kept history; see the header. */
export class HistoryKeeper {
  private pending = "";
  private pendingLines = 0;
  private fileLines = 0;
  /** The next write replaces the file: the start, a failed write, a file grown to twice the series. */
  private rewrite = true;
  /** The format of the file's header, as last written whole (twins/history-file.ts, formatFor). */
  private fileFormat = 0;
  /**
   * The format the lines buffered need (an outage's, AWAY_FORMAT; a held point, HELD_FORMAT): not to
   * be appended to a file written in an older one, which has no such line.
   */
  private pendingFormat = 0;
  private lastWrite = Number.NEGATIVE_INFINITY;
  private writing: Promise<void> = Promise.resolve();
  private busy = false;
  /** When the write under way began (the scheduler's time); undefined while none is. */
  private began: number | undefined;
  /** Why the clean stop's record was not written (close()), told as the service stops. */
  private stopUnwritten: unknown;
  private readonly timer: Timer;
  private readonly failures: FailureLog;
  private lastError: unknown;

  constructor(
    private readonly kept: KeptHistory,
    private readonly capacity: number,
    private readonly scheduler: Scheduler,
    private readonly logger: Logger,
    private readonly series: () => readonly SeriesPoint[],
    private readonly minutes: () => readonly MinutePoint[] = () => [],
    private readonly minutesKept: number = MINUTES_KEPT,
    private readonly away: () => readonly AwaySpan[] = () => [],
    /** The service's own stalls: a write does not wait on its disk while the service does not run. */
    private readonly stalls?: StallWatch | undefined,
  ) {
    this.failures = new FailureLog(
      logger,
      {
        first: (reason) =>
          `twins: the convergence history cannot be written to ${kept.file} (${reason}); the chart's history is kept in memory meanwhile, retried every ${HISTORY_FLUSH_MS / 1000} s once no write is under way`,
        still: `twins: the convergence history still cannot be written to ${kept.file}`,
        again: `twins: the convergence history is written again to ${kept.file}`,
        countField: "failedWrites",
      },
      () => scheduler.now(),
    );
    this.timer = every(scheduler, HISTORY_FLUSH_MS, () => this.flush());
    this.flush();
  }

  /** The feed added `p` (in the last point's place when `replaces`). */
  added(p: SeriesPoint, replaces: boolean): void {
    this.pending += pointLine(p, replaces, this.offset());
    this.pendingLines++;
    this.pendingFormat = Math.max(this.pendingFormat, pointFormat(p));
  }

  /** The long tier closed the minute `m`. */
  addedMinute(m: MinutePoint): void {
    this.pending += minuteLine(m, this.offset());
    this.pendingLines++;
  }

  /**
   * A broker outage opened, moved its start or ended (twins/broker-spans.ts). A file in a format
   * without them (2) is written again whole, as format 3, rather than appended to (a held point's,
   * as format 4, alike).
   */
  addedAway(span: AwaySpan): void {
    this.pending += awayLine(span, this.offset());
    this.pendingLines++;
    this.pendingFormat = Math.max(this.pendingFormat, AWAY_FORMAT);
  }

  /**
   * While writes fail, or one has not ended in `HISTORY_STALLED_MS`: since when and why (`/healthz`
   * lists it, `twinfleet_twins_history_written` 0); undefined while they succeed. Logged only, before:
   * a scrape or a probe saw nothing.
   */
  get unwritten(): HistoryUnwritten | undefined {
    const since = this.failures.failingSince;
    const e = this.lastError;
    const cause = e instanceof Error ? e.message : String(e);
    return since === undefined ? undefined : { since, file: this.kept.file, cause };
  }

  /**
   * The write under way once it has run `HISTORY_STALLED_MS` (a frozen or hung disk): since when, and
   * its file; undefined otherwise. A stop waits for it, as for a save, and says so (twins/stop-wait.ts).
   */
  get stalled(): { readonly since: number; readonly file: string } | undefined {
    const since = this.began;
    return since !== undefined && ranSince(this.scheduler, this.stalls, since) >= HISTORY_STALLED_MS
      ? { since, file: this.kept.file }
      : undefined;
  }

  /** Resolves once the write under way, if any, is over. */
  settled(): Promise<void> {
    return this.writing;
  }

  /** Stops writing; what is buffered is lost, as with a kill -9. */
  stop(): void {
    this.timer.cancel();
  }

  /** Writes what is buffered and a clean stop's record, then stops. */
  async close(): Promise<void> {
    this.stop();
    await this.writing;
    // Dated as every other record, the time plus the ms offset: the host's date unrounded put the
    // stop up to 0.5 ms off the points' dates, before the last of them when it came within that.
    this.pending += stopLine(this.scheduler.now() + this.offset());
    this.pendingLines++;
    this.write(true);
    await this.writing;
    // The next start reads no stop and cannot tell this one from a kill -9: it says so, and this says why.
    if (this.stopUnwritten !== undefined)
      this.logger.warn(
        { err: this.stopUnwritten },
        `twins: this clean stop could not be recorded in the convergence history ${this.kept.file} (${this.stopUnwritten instanceof Error ? this.stopUnwritten.message : String(this.stopUnwritten)}): the next start reads no stop, and cannot tell it from a kill -9`,
      );
  }

  /** Appends `text`; false when the file is not there to append to. */
  private async appended(text: string): Promise<boolean> {
    try {
      await appendHistory(this.kept.file, text);
      return true;
    } catch (e) {
      if (isErrno(e, "ENOENT")) return false;
      throw e;
    }
  }

  /**
   * What a whole rewrite of `points` carries besides them: the minutes, the broker's outages (those
   * ending before the oldest point and minute dropped, so a file goes back to format 2 once its outages
   * are older than what it holds), the fleet, the dates' offset; the format it is written in kept.
   */
  private written(points: readonly SeriesPoint[], minutes: readonly MinutePoint[]) {
    const oldest = Math.min(
      points[0]?.t ?? Number.POSITIVE_INFINITY,
      minutes[0]?.t ?? Number.POSITIVE_INFINITY,
    );
    const away = this.away().filter((s) => s.to === undefined || s.to >= oldest);
    this.fileFormat = formatFor(away, points);
    return {
      minutes,
      away,
      offset: this.offset(),
      ...(this.kept.fleet !== undefined ? { fleet: this.kept.fleet } : {}),
    };
  }

  /** The date minus the time: the file holds dates (twins/history-file.ts). */
  private offset(): number {
    return msOffset(this.scheduler);
  }

  private flush(): void {
    if (!this.busy) this.write(false);
  }

  private write(closing: boolean): void {
    if (!this.kept.writable) return;
    const now = this.scheduler.now();
    const most = 2 * (this.capacity + this.minutesKept) + 2;
    const formatUp = this.pendingFormat > this.fileFormat;
    const whole = this.rewrite || formatUp || this.fileLines + this.pendingLines > most;
    if (!whole && this.pendingLines === 0 && now < this.lastWrite + HISTORY_ALIVE_MS) return;
    const text = this.pendingLines > 0 ? this.pending : aliveLine(now + this.offset());
    const lines = Math.max(1, this.pendingLines);
    const points = whole ? this.series() : [];
    const minutes = whole ? [...this.minutes()] : [];
    this.pending = "";
    this.pendingLines = 0;
    this.pendingFormat = 0;
    this.busy = true;
    this.lastWrite = now;
    this.began = now;
    // One that hangs counts as failing once stalled, until it ends: the end says which way. Failing
    // since it began: `/healthz` counted its `for N s` from the stall's judging, 5 s late.
    const stall = afterRunning(
      this.scheduler,
      HISTORY_STALLED_MS,
      () => {
        this.lastError = new Error(
          `a write begun ${HISTORY_STALLED_MS / 1000} s before has not ended: its disk or file system is not answering (frozen, a hung disk or network volume?)`,
        );
        this.failures.failed(this.lastError, {}, now);
      },
      this.stalls,
    );
    this.writing = (async () => {
      try {
        if (whole) {
          await rewriteHistory(this.kept.file, points, now, this.written(points, minutes));
          this.fileLines = minutes.length + points.length + 2;
          if (closing) await appendHistory(this.kept.file, stopLine(now + this.offset()));
        } else if (!(await this.appended(text))) {
          // Removed or moved while the service ran: written again whole, with its header.
          const held = this.series();
          const heldMinutes = [...this.minutes()];
          await rewriteHistory(this.kept.file, held, now, this.written(held, heldMinutes));
          this.fileLines = heldMinutes.length + held.length + 2;
          this.logger.warn(
            `twins: the convergence history ${this.kept.file} was gone (removed or moved while the service ran): written again from the ${held.length} points and ${heldMinutes.length} minutes held in memory`,
          );
        } else this.fileLines += lines;
        this.rewrite = false;
        this.failures.succeeded();
      } catch (err) {
        // A failed append may have left part of a line: the next write is a whole one, from the series.
        this.rewrite = true;
        if (closing) this.stopUnwritten = err;
        this.lastError = err;
        this.failures.failed(err, {}, now);
      } finally {
        stall.cancel();
        this.busy = false;
        this.began = undefined;
      }
    })();
  }
}
