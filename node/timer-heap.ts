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

export class TimerHeap {
  private seq = 0;
  private heap: TimerEntry[] = [];

  /** A new entry, not yet in the heap (push it when it should start to count). */
  entry(at: number, fn: () => void): TimerEntry {
    return new TimerEntry(at, this.seq++, fn);
  }

  push(e: TimerEntry): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const hp = h[p] as TimerEntry;
      if (!less(e, hp)) break;
      h[i] = hp;
      i = p;
    }
    h[i] = e;
  }

  /** The earliest live entry, dropping cancelled ones on the way; undefined when none is left. */
  peek(): TimerEntry | undefined {
    for (;;) {
      const top = this.heap[0];
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
    return this.heap.filter((e) => e.fn !== undefined).length;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (last === undefined || h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const hl = h[l] as TimerEntry;
      const c = r < h.length && less(h[r] as TimerEntry, hl) ? r : l;
      const hc = h[c] as TimerEntry;
      if (!less(hc, last)) break;
      h[i] = hc;
      i = c;
    }
    h[i] = last;
  }
}

function less(a: TimerEntry, b: TimerEntry): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
