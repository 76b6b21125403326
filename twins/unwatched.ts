/**
 * The spans (on the scheduler's `now()`) of this run in which the twins service could not have heard
 * a node: the broker link down, and the re-read of the broker's retained state after each
 * subscription (the first included). A node's silence, as `--forget-after` judges it
 * (twins/forget-after.ts), is the time since it was last seen less these spans: a node that may have
 * spoken while no one listened is not taken as silent for that time. The time the service itself was
 * stopped is not among them: the stored dates are kept as they are (docs/twins.md).
 */

export class UnwatchedSpans {
  /** Ended spans, oldest first, none overlapping. */
  private readonly spans: { from: number; to: number }[] = [];
  /** When the span under way began; undefined while watching. */
  private openFrom: number | undefined;

  constructor(from: number) {
    this.openFrom = from;
  }

  get watching(): boolean {
    return this.openFrom === undefined;
  }

  /** Since when the service has been watching; undefined while it is not. */
  get watchingSince(): number | undefined {
    return this.openFrom === undefined ? (this.spans.at(-1)?.to ?? Number.NEGATIVE_INFINITY) : undefined;
  }

  /** Nothing can be heard from `at` on (a span under way goes on). */
  begin(at: number): void {
    if (this.openFrom === undefined) this.openFrom = at;
  }

  /** Watching again from `at`. */
  end(at: number): void {
    if (this.openFrom === undefined) return;
    const start = this.openFrom;
    this.openFrom = undefined;
    if (!(at > start)) return;
    const last = this.spans.at(-1);
    if (last !== undefined && start <= last.to) last.to = Math.max(last.to, at);
    else this.spans.push({ from: start, to: at });
  }

  /**
   * How long a node last seen at `seen` has been silent while watched, at `now`; undefined while not
   * watching.
   */
  silentFor(seen: number, now: number): number | undefined {
    if (this.openFrom !== undefined) return undefined;
    let unwatched = 0;
    for (const s of this.spans) {
      const from = Math.max(s.from, seen);
      if (s.to > from) unwatched += s.to - from;
    }
    return now - seen - unwatched;
  }

  /**
   * Lets go of the spans that can no longer keep a node under `keepMs` of silence at `now`: those
   * that ended before `now - keepMs - (all the spans' length)`; a node seen before one of them is
   * silent past `keepMs` with or without it, one seen after it is not touched by it.
   */
  prune(now: number, keepMs: number): void {
    const total = this.spans.reduce((n, s) => n + (s.to - s.from), 0);
    let drop = 0;
    while (drop < this.spans.length && (this.spans[drop]?.to ?? now) < now - keepMs - total) drop++;
    this.spans.splice(0, drop);
  }

  /** The ended spans kept (for tests and the sweep's line). */
  get count(): number {
    return this.spans.length;
  }
}
