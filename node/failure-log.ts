/**
 * The log of a write that can keep failing (a full disk): the first failure with what it means and
 * what to do, then, while it goes on, at most one line every `everyMs` with how many failed since,
 * and one line when a write succeeds again. The broker's store and the twins' saves log through it.
 */
import type { Logger } from "pino";

/** A write that keeps failing is logged again at most this often. */
export const FAILURE_LOG_MS = 60_000;

/** A write refused as its file system is mounted read-only (EROFS; LevelDB's "Read-only file system"). */
export function isReadOnly(reason: string): boolean {
  return /read-only file system|\bEROFS\b/i.test(reason);
}

/** What to do about it: freeing space does nothing there (Linux remounts so after an I/O error). */
export const READ_ONLY_ADVICE =
  "its file system is read-only (remounted so after an I/O error?): check the disk, then make it writable again";

export interface FailureLogText {
  /** The first failure's line, from its reason. */
  readonly first: (reason: string) => string;
  /** The line while failures go on. */
  readonly still: string;
  /** The line when a write succeeds again. */
  readonly again: string;
  /** The field that counts the failures since the last line. */
  readonly countField: string;
}

export class FailureLog {
  /** When the current run of failures began (`now`'s clock); undefined while writes succeed. */
  private since: number | undefined;
  private sinceLog = 0;
  private lastLog = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly logger: Logger,
    private readonly text: FailureLogText,
    private readonly now: () => number,
    private readonly everyMs = FAILURE_LOG_MS,
  ) {}

  /** The last write failed. */
  get failing(): boolean {
    return this.since !== undefined;
  }

  /** Since when writes have failed, on `now`'s clock; undefined while they succeed. */
  get failingSince(): number | undefined {
    return this.since;
  }

  /**
   * A write failed (`fields` go on its line); `began`, when the write began, dates the failures'
   * start, where it is known (a write that hung is judged failing some seconds after it began).
   */
  failed(err: unknown, fields: Readonly<Record<string, unknown>> = {}, began?: number): void {
    this.sinceLog++;
    const t = this.now();
    if (this.since !== undefined && t < this.lastLog + this.everyMs) return;
    const reason = err instanceof Error ? err.message : String(err);
    this.logger.error(
      { err: reason, [this.text.countField]: this.sinceLog, ...fields },
      this.since !== undefined ? this.text.still : this.text.first(reason),
    );
    this.since ??= Math.min(began ?? t, t);
    this.sinceLog = 0;
    this.lastLog = t;
  }

  /** A write succeeded: said once after failures. */
  succeeded(): void {
    if (this.since === undefined) return;
    this.since = undefined;
    this.sinceLog = 0;
    this.lastLog = Number.NEGATIVE_INFINITY;
    this.logger.warn(this.text.again);
  }
}
