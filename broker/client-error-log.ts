/**
 * The broker's log of its clients' ordinary errors (a keepalive that ran out, a reset), one line
 * each but at most `CLIENT_ERROR_LINES` in a window of `CLIENT_ERROR_WINDOW_MS`: past that the
 * window's rest is one summary line at its end, by error, and while a flood lasts (the window before
 * also overflowed) only the summaries are written. A partition of 600 nodes wrote 602 lines of
 * `client error … keep alive timeout` within two seconds; 5,000 nodes, 5,000. Each error is still
 * counted for `/metrics` (broker/client-errors.ts); refusals and cuts the broker decides are logged
 * apart, in full.
 */
import type { Logger } from "pino";

export const CLIENT_ERROR_LINES = 20;
export const CLIENT_ERROR_WINDOW_MS = 10_000;

/** The host's clock and a timer, injected so that a test can run the windows. */
export interface LogClock {
  now(): number;
  after(ms: number, fn: () => void): () => void;
}

export const hostClock: LogClock = {
  now: () => performance.now(),
  after: (ms, fn) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return () => clearTimeout(t);
  },
};

export class ClientErrorLog {
  private windowStart = Number.NEGATIVE_INFINITY;
  private lines = 0;
  private budget = CLIENT_ERROR_LINES;
  private readonly held = new Map<string, number>();
  private overflowed = false;
  private cancel: (() => void) | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly clock: LogClock = hostClock,
  ) {}

  log(clientId: string | undefined, err: Error): void {
    const now = this.clock.now();
    if (now >= this.windowStart + CLIENT_ERROR_WINDOW_MS) {
      this.summarise();
      // A flood that goes on is summed up only; after a quiet window, lines again.
      const flooding = this.overflowed && now < this.windowStart + 2 * CLIENT_ERROR_WINDOW_MS;
      this.budget = flooding ? 0 : CLIENT_ERROR_LINES;
      this.windowStart = now;
      this.lines = 0;
      this.overflowed = false;
    }
    if (this.lines < this.budget) {
      this.lines++;
      this.logger.info({ clientId, err: err.message }, "client error");
      return;
    }
    this.overflowed = true;
    this.held.set(err.message, (this.held.get(err.message) ?? 0) + 1);
    this.cancel ??= this.clock.after(this.windowStart + CLIENT_ERROR_WINDOW_MS - now, () => {
      this.cancel = undefined;
      this.summarise();
    });
  }

  /** Writes what is held back and stops the timer (the broker closes). */
  stop(): void {
    this.summarise();
  }

  private summarise(): void {
    this.cancel?.();
    this.cancel = undefined;
    if (this.held.size === 0) return;
    const byError = Object.fromEntries(this.held);
    const total = [...this.held.values()].reduce((a, b) => a + b, 0);
    const errors = [...this.held]
      .sort((a, b) => b[1] - a[1])
      .map(([e, n]) => `${n} ${e}`)
      .join(", ");
    this.held.clear();
    this.logger.info(
      { byError },
      `${total} more client errors in ${CLIENT_ERROR_WINDOW_MS / 1000} s, not logged one by one (${errors})`,
    );
  }
}
