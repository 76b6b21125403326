/**
 * The injected clock: a Scheduler gives the time (ms, fractional) and runs callbacks at a time.
 * `RealScheduler` runs on wall time for the fleet runner; `FakeScheduler` runs on virtual time for
 * tests and offline models. Nodes hold no timers of their own beyond what they ask of it, so many
 * nodes share one scheduler and no node spins a timer per loop iteration.
 */

export interface Timer {
  cancel(): void;
}

export interface Scheduler {
  /** Current time in ms. */
  now(): number;
  /** Runs `fn` at time `atMs` (or as soon as possible if that is already past). */
  at(atMs: number, fn: () => void): Timer;
}

/** Wall time from `performance.now()` (or a given origin), timers from `setTimeout`. */
export class RealScheduler implements Scheduler {
  constructor(private readonly origin = 0) {}

  now(): number {
    return performance.now() - this.origin;
  }

  at(atMs: number, fn: () => void): Timer {
    const delay = atMs - this.now();
    // setTimeout never fires sooner than 1 ms: work due now (a zero-cost step, a packet to pass on)
    // runs on the next turn of the event loop instead, or every hop would cost a millisecond.
    if (delay <= 0) {
      const i = setImmediate(fn);
      return { cancel: () => clearImmediate(i) };
    }
    const t = setTimeout(fn, delay);
    return { cancel: () => clearTimeout(t) };
  }
}

interface FakeEntry {
  readonly at: number;
  readonly seq: number;
  fn: (() => void) | undefined;
}

/** Virtual time: nothing happens until `advance`/`runUntil`; timers at equal times run in order set. */
export class FakeScheduler implements Scheduler {
  private t: number;
  private seq = 0;
  private heap: FakeEntry[] = [];

  constructor(start = 0) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  at(atMs: number, fn: () => void): Timer {
    const e: FakeEntry = { at: Math.max(atMs, this.t), seq: this.seq++, fn };
    this.push(e);
    return {
      cancel: () => {
        e.fn = undefined;
      },
    };
  }

  /** Runs every timer due up to `until`, then sets the time to `until`. */
  runUntil(until: number): void {
    for (;;) {
      const top = this.heap[0];
      if (top === undefined || top.at > until) break;
      this.pop();
      this.t = top.at;
      const fn = top.fn;
      top.fn = undefined;
      fn?.();
    }
    this.t = Math.max(this.t, until);
  }

  advance(ms: number): void {
    this.runUntil(this.t + ms);
  }

  /** Pending (not cancelled) timers. */
  get pending(): number {
    return this.heap.filter((e) => e.fn !== undefined).length;
  }

  private less(a: FakeEntry, b: FakeEntry): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(e: FakeEntry): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const hp = h[p] as FakeEntry;
      if (!this.less(e, hp)) break;
      h[i] = hp;
      i = p;
    }
    h[i] = e;
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
      const hl = h[l] as FakeEntry;
      const c = r < h.length && this.less(h[r] as FakeEntry, hl) ? r : l;
      const hc = h[c] as FakeEntry;
      if (!this.less(hc, last)) break;
      h[i] = hc;
      i = c;
    }
    h[i] = last;
  }
}
