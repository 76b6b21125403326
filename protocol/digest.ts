/**
 * Warnings that may come one per client or node in a burst (two fleets with one set of ids, a whole
 * fleet flapping): in each window (a minute) the first `oneByOne` are told on their own, and the
 * rest are gathered into one summary told at the window's end. The caller keeps what the summary
 * names (a few ids, addresses) in a value of its own making; the digest counts, times and hands it
 * back. Used by the broker's takeover warnings and the twins' flapping warnings.
 */

/** The clock a digest runs on: the time, and a one-shot timer it can cancel. */
export interface DigestClock {
  now(): number;
  later(ms: number, fn: () => void): { cancel(): void };
}

export class WarningDigest<S> {
  /** The window under way: when it began and how many were told on their own in it. */
  private window = { startedAt: Number.NEGATIVE_INFINITY, told: 0 };
  /** What is gathered past the one-by-one ones, with its count and its timer, until told. */
  private pending: { summary: S; count: number; timer: { cancel(): void } } | undefined;

  constructor(
    private readonly oneByOne: number,
    private readonly windowMs: number,
    private readonly clock: DigestClock,
    private readonly start: () => S,
    private readonly tell: (summary: S, count: number) => void,
  ) {}

  /**
   * One more warning: undefined when it is to be told on its own now; otherwise the summary under
   * way, counted, for the caller to add what it names.
   */
  hit(): S | undefined {
    const now = this.clock.now();
    if (now - this.window.startedAt >= this.windowMs) this.window = { startedAt: now, told: 0 };
    if (this.window.told < this.oneByOne) {
      this.window.told += 1;
      return undefined;
    }
    if (this.pending === undefined) {
      const timer = this.clock.later(this.window.startedAt + this.windowMs - now, () => this.flush());
      this.pending = { summary: this.start(), count: 0, timer };
    }
    this.pending.count += 1;
    return this.pending.summary;
  }

  /** Tells the summary under way now, if any (at the window's end, or when the teller closes). */
  flush(): void {
    const p = this.pending;
    if (p === undefined) return;
    this.pending = undefined;
    p.timer.cancel();
    this.tell(p.summary, p.count);
  }

  /** Drops the summary under way untold, and its timer. */
  stop(): void {
    this.pending?.timer.cancel();
    this.pending = undefined;
  }
}
