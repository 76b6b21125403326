/**
 * A log that writes a line per event, but at most `lines` in a window of `windowMs`: past that the
 * window's rest is counted by key and told in one summary at the window's end, and while a flood
 * lasts (the window before also overflowed) only the summaries are written; after a quiet window,
 * lines again. The twins' bad-input log and the broker's client errors each wrap one: a rogue client
 * sending 10,000 bad reports a second wrote 10,000 lines a second, a partition of 600 nodes 602.
 */
import type { Scheduler, Timer } from "./scheduler.js";

export class LogWindow<K> {
  private windowStart = Number.NEGATIVE_INFINITY;
  private written = 0;
  private budget: number;
  private readonly held = new Map<K, number>();
  private overflowed = false;
  private timer: Timer | undefined;

  /** `summary` gets the window's held counts (by key, in the order each first came) and their total. */
  constructor(
    private readonly scheduler: Scheduler,
    private readonly lines: number,
    private readonly windowMs: number,
    private readonly summary: (held: readonly (readonly [K, number])[], total: number) => void,
  ) {
    this.budget = lines;
  }

  /** One event: `line` writes it, unless the window is spent, when it is counted under `key`. */
  log(key: K, line: () => void): void {
    const now = this.scheduler.now();
    if (now >= this.windowStart + this.windowMs) {
      this.summarise();
      const flooding = this.overflowed && now < this.windowStart + 2 * this.windowMs;
      this.budget = flooding ? 0 : this.lines;
      this.windowStart = now;
      this.written = 0;
      this.overflowed = false;
    }
    if (this.written < this.budget) {
      this.written++;
      line();
      return;
    }
    this.overflowed = true;
    this.held.set(key, (this.held.get(key) ?? 0) + 1);
    // Ends the window's summary; a timer the host runs late does not cut the next window short.
    this.timer ??= this.scheduler.at(this.windowStart + this.windowMs, () => {
      this.timer = undefined;
      this.summarise();
    });
  }

  /** Writes what is held back and stops the timer. */
  stop(): void {
    this.summarise();
  }

  private summarise(): void {
    this.timer?.cancel();
    this.timer = undefined;
    if (this.held.size === 0) return;
    const held = [...this.held];
    const total = held.reduce((n, [, c]) => n + c, 0);
    this.held.clear();
    this.summary(held, total);
  }
}
