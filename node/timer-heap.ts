/**
 * TimerHeap: callbacks ordered by due time (ties in the order they were added), with lazy
 * cancellation, and entries that can be moved to a new time in place (`rearm`: a timer slot that
 * allocates nothing per use). Both schedulers keep their own timers in one: the fake one all of
 * them, the real one those it must run at an exact instant.
 */

/** A callback at a time; it is its own Timer handle (cancel() clears it), so a timer is one object. */
export class TimerEntry {
  /** Where it is in the heap's arrays; -1 when it is not in the heap. */
  index = -1;

  constructor(
    public at: number,
    public seq: number,
    /** Cleared when the timer is cancelled or has run. */
    public fn: (() => void) | undefined,
  ) {}

  cancel(): void {
    this.fn = undefined;
  }
}

/**
 * A 4-ary min-heap on (at, seq), the keys kept in their own arrays beside the entries: a fleet of
 * 100,000 nodes keeps hundreds of thousands of timers, and a sift that compares numbers laid out in
 * a row touches far less memory than one that reads each entry object. The order is the same as any
 * heap's on these keys: no two entries share a seq.
 */
export class TimerHeap {
  private seq = 0;
  private readonly ats: number[] = [];
  private readonly seqs: number[] = [];
  private readonly entries: TimerEntry[] = [];

  /** A new entry, not yet in the heap (push it when it should start to count). */
  entry(at: number, fn: () => void): TimerEntry {
    return new TimerEntry(at, this.seq++, fn);
  }

  push(e: TimerEntry): void {
    const i = this.entries.length;
    this.ats.push(e.at);
    this.seqs.push(e.seq);
    this.entries.push(e);
    this.siftUp(e, i);
  }

  /**
   * Moves `e` to time `at` with a new place among equal times (as if it were a new entry, so the
   * order is the one a cancel and a new entry would give): out of the heap first if it is in it.
   */
  rearm(e: TimerEntry, at: number, fn: () => void): void {
    this.remove(e);
    e.at = at;
    e.seq = this.seq++;
    e.fn = fn;
    this.push(e);
  }

  /** Takes `e` out of the heap now (not lazily); nothing when it is not in it. */
  remove(e: TimerEntry): void {
    const i = e.index;
    if (i < 0) return;
    e.index = -1;
    const { ats, seqs, entries } = this;
    const last = entries.pop() as TimerEntry;
    ats.pop();
    seqs.pop();
    if (last === e) return;
    // The last entry fills the hole, then goes up or down to its place.
    const p = (i - 1) >> 2;
    if (
      i > 0 &&
      ((ats[p] as number) > last.at || ((ats[p] as number) === last.at && (seqs[p] as number) > last.seq))
    )
      this.siftUp(last, i);
    else this.siftDown(last, i);
  }

  private siftUp(e: TimerEntry, from: number): void {
    const { ats, seqs, entries } = this;
    const at = e.at;
    const seq = e.seq;
    let i = from;
    while (i > 0) {
      const p = (i - 1) >> 2;
      const pa = ats[p] as number;
      if (pa < at || (pa === at && (seqs[p] as number) < seq)) break;
      const pe = entries[p] as TimerEntry;
      ats[i] = pa;
      seqs[i] = seqs[p] as number;
      entries[i] = pe;
      pe.index = i;
      i = p;
    }
    ats[i] = at;
    seqs[i] = seq;
    entries[i] = e;
    e.index = i;
  }

  /** The earliest live entry, dropping cancelled ones on the way; undefined when none is left. */
  peek(): TimerEntry | undefined {
    for (;;) {
      const top = this.entries[0];
      if (top === undefined || top.fn !== undefined) return top;
      this.pop();
    }
  }

  /**
   * Runs every live entry due at or before `until`, earliest first — including entries added by
   * the callbacks themselves. `onRun` is told each entry's time before its callback runs; `stop`,
   * asked after each callback, ends the run early (the return value says it did).
   */
  runDue(until: number, onRun?: (at: number) => void, stop?: () => boolean): boolean {
    for (;;) {
      const top = this.peek();
      if (top === undefined || top.at > until) return false;
      this.pop();
      const fn = top.fn;
      top.fn = undefined;
      onRun?.(top.at);
      fn?.();
      if (stop?.()) return true;
    }
  }

  /** Live entries (cancelled ones not counted). */
  get size(): number {
    return this.entries.filter((e) => e.fn !== undefined).length;
  }

  private pop(): void {
    const { ats, seqs, entries } = this;
    const top = entries[0];
    if (top !== undefined) top.index = -1;
    const last = entries.pop();
    ats.pop();
    seqs.pop();
    if (last === undefined || entries.length === 0) return;
    this.siftDown(last, 0);
  }

  /** Puts `e` at hole `from` or below it, moving smaller children up. */
  private siftDown(e: TimerEntry, from: number): void {
    const { ats, seqs, entries } = this;
    const at = e.at;
    const seq = e.seq;
    const n = entries.length;
    let i = from;
    for (;;) {
      const first = 4 * i + 1;
      if (first >= n) break;
      // The least of up to four children.
      let c = first;
      let ca = ats[first] as number;
      let cs = seqs[first] as number;
      const end = Math.min(first + 4, n);
      for (let k = first + 1; k < end; k++) {
        const ka = ats[k] as number;
        if (ka < ca || (ka === ca && (seqs[k] as number) < cs)) {
          c = k;
          ca = ka;
          cs = seqs[k] as number;
        }
      }
      if (at < ca || (at === ca && seq < cs)) break;
      const ce = entries[c] as TimerEntry;
      ats[i] = ca;
      seqs[i] = cs;
      entries[i] = ce;
      ce.index = i;
      i = c;
    }
    ats[i] = at;
    seqs[i] = seq;
    entries[i] = e;
    e.index = i;
  }
}
