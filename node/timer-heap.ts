/**
 * TimerHeap: callbacks ordered by due time (ties in the order they were added), with lazy
 * cancellation. Both schedulers keep their own timers in one: the fake one all of them, the real one
 * those it must run at an exact instant.
 */

/** A callback at a time; it is its own Timer handle (cancel() clears it), so a timer is one object. */
export class TimerEntry {
  constructor(
    readonly at: number,
    readonly seq: number,
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
    const { ats, seqs, entries } = this;
    const at = e.at;
    const seq = e.seq;
    let i = entries.length;
    ats.push(at);
    seqs.push(seq);
    entries.push(e);
    while (i > 0) {
      const p = (i - 1) >> 2;
      const pa = ats[p] as number;
      if (pa < at || (pa === at && (seqs[p] as number) < seq)) break;
      ats[i] = pa;
      seqs[i] = seqs[p] as number;
      entries[i] = entries[p] as TimerEntry;
      i = p;
    }
    ats[i] = at;
    seqs[i] = seq;
    entries[i] = e;
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
    const last = entries.pop();
    const at = ats.pop() as number;
    const seq = seqs.pop() as number;
    const n = entries.length;
    if (last === undefined || n === 0) return;
    let i = 0;
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
      ats[i] = ca;
      seqs[i] = cs;
      entries[i] = entries[c] as TimerEntry;
      i = c;
    }
    ats[i] = at;
    seqs[i] = seq;
    entries[i] = last;
  }
}
