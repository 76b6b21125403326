/**
 * TimerHeap: callbacks ordered by due time (ties in the order they were added), with lazy
 * cancellation, and slots (`HeapSlot`): one callback re-armed over and over, reusing its entry.
 * Both schedulers keep their own timers in one: the fake one all of them, the real one those it must
 * run at an exact instant.
 */

/** A callback at a time; it is its own Timer handle (cancel() clears it), so a timer is one object. */
export class TimerEntry {
  /** In the heap (pushed and not yet popped). */
  queued = false;
  /** A slot moved it later while it was queued: when it comes up, it goes back in at these keys. */
  moved = false;
  movedAt = 0;
  movedSeq = 0;
  /** Made by `post`: no one holds it, so it is reused once it has run. */
  spare = false;

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
  /** Entries of `post` timers that have run, for the next ones. */
  private readonly spares: TimerEntry[] = [];

  /** A new entry, not yet in the heap (push it when it should start to count). */
  entry(at: number, fn: () => void): TimerEntry {
    return new TimerEntry(at, this.seq++, fn);
  }

  /** The next tie-breaking number (what a new entry made now would get). */
  nextSeq(): number {
    return this.seq++;
  }

  /**
   * Adds `fn` at `at` as `push(entry(at, fn))` would, but with no handle (it cannot be cancelled):
   * its entry is one that has run before, when there is one, not a new object per timer.
   */
  post(at: number, fn: () => void): void {
    const e = this.spares.pop();
    if (e === undefined) {
      const made = new TimerEntry(at, this.seq++, fn);
      made.spare = true;
      this.push(made);
      return;
    }
    e.at = at;
    e.seq = this.seq++;
    e.fn = fn;
    this.push(e);
  }

  push(e: TimerEntry): void {
    e.queued = true;
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

  /**
   * The earliest live entry, dropping cancelled ones on the way and putting moved ones back at their
   * new keys (a key only ever moves later, so the heap order holds); undefined when none is left.
   */
  peek(): TimerEntry | undefined {
    for (;;) {
      const top = this.entries[0];
      if (top === undefined) return undefined;
      if (top.fn !== undefined && !top.moved) return top;
      this.pop();
      if (top.fn !== undefined) {
        top.moved = false;
        top.at = top.movedAt;
        top.seq = top.movedSeq;
        this.push(top);
      }
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
      const at = top.at;
      top.fn = undefined;
      if (top.spare) this.spares.push(top);
      onRun?.(at);
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
    if (top !== undefined) top.queued = false;
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

/**
 * One callback pending at most once and re-armed over and over (a node's loop wake-up, a link's
 * timer), in the order a cancel and a new entry would give, without a new entry for every arm:
 * moved later while queued, its entry stays where it is and goes back in at the new keys when it
 * comes up; moved earlier, the old entry is cancelled and the slot's other entry takes over. A slot
 * has two entries: once one has run it is reused, and one still in the heap (cancelled) at or
 * before the new time is revived there, moved to the new keys as a later move would be. A loop's
 * wake-up moves earlier for nearly every packet and back to its keepalive deadline after it: a new
 * entry each time, the old one left in the heap until that deadline, filled the heap with dead
 * entries that lived long enough to be promoted. `floor` is the time before which nothing is set
 * (the scheduler's now).
 */
export class HeapSlot {
  /** The entry that is armed, if any. */
  private e: TimerEntry | undefined;
  /** The slot's other entry: out of the heap, or in it cancelled. */
  private other: TimerEntry | undefined;

  constructor(
    private readonly heap: TimerHeap,
    private readonly fn: () => void,
    private readonly floor: { now(): number },
  ) {}

  set(atMs: number): void {
    const at = Math.max(atMs, this.floor.now());
    const seq = this.heap.nextSeq();
    const e = this.e;
    if (e?.queued) {
      // Armed or cancelled, it is revived at `at` when that is not before where it waits.
      if (at >= e.at) {
        this.moveLater(e, at, seq);
        return;
      }
      // Earlier than where it waits: dropped when it comes up.
      e.fn = undefined;
    }
    const o = this.other;
    if (o?.queued && at >= o.at) {
      this.other = e;
      this.e = o;
      this.moveLater(o, at, seq);
      return;
    }
    if (e !== undefined && !e.queued) {
      this.reuse(e, at, seq);
      return;
    }
    this.other = e;
    if (o !== undefined && !o.queued) this.reuse(o, at, seq);
    else this.push(new TimerEntry(at, seq, this.fn));
  }

  /** Arms `e`, queued at or before `at`: it goes back in at (`at`, `seq`) when it comes up. */
  private moveLater(e: TimerEntry, at: number, seq: number): void {
    e.fn = this.fn;
    e.moved = true;
    e.movedAt = at;
    e.movedSeq = seq;
  }

  /** Puts `e`, out of the heap, back in at (`at`, `seq`) as the slot's entry. */
  private reuse(e: TimerEntry, at: number, seq: number): void {
    e.at = at;
    e.seq = seq;
    e.fn = this.fn;
    e.moved = false;
    this.push(e);
  }

  cancel(): void {
    const e = this.e;
    if (e === undefined) return;
    e.fn = undefined;
    e.moved = false;
  }

  private push(e: TimerEntry): void {
    this.e = e;
    this.heap.push(e);
  }
}
