/**
 * The injected clock: a Scheduler gives the time (ms, fractional) and runs callbacks at a time.
 * `RealScheduler` runs on wall time for the fleet runner; `FakeScheduler` runs on virtual time for
 * tests and offline models. Nodes hold no timers of their own beyond what they ask of it, so many
 * nodes share one scheduler and no node spins a timer per loop iteration.
 */
import { isMainThread } from "node:worker_threads";
import { type TimerEntry, TimerHeap } from "./timer-heap.js";

export interface Timer {
  cancel(): void;
}

export interface Scheduler {
  /** Current time in ms. */
  now(): number;
  /**
   * Runs `fn` at time `atMs` (or as soon as possible if that is already past). A model step uses
   * its own `atMs` as the time it happens, so a wall-clock scheduler may run it a little early.
   * `exact` asks for no earlier than `atMs`, as close to it as the host allows: for what the world
   * outside the model sees at that instant (bytes written to a real socket).
   */
  at(atMs: number, fn: () => void, exact?: boolean): Timer;
}

/** Node's timers count whole milliseconds of a loop clock cached at the start of each turn. */
const TIMER_RESOLUTION_MS = 1;
/** An exact timer wakes this long before its instant and waits the rest on the event loop. */
const SPIN_MS = 2;
/**
 * While an exact timer is close, a worker thread sleeps at most this long between turns of its event
 * loop instead of spinning them: a thread spinning for every write took 30 % of a core at 2,500
 * nodes. Packets arriving meanwhile are read up to this much later — never earlier. The main thread
 * (nodes beside the broker) spins: sleeping there would hold the broker up.
 */
const NAP_MS = 0.2;
const NAP_CELL = new Int32Array(new SharedArrayBuffer(4));

/**
 * Wall time from `performance.now()` (or a given origin). `setTimeout` has millisecond resolution
 * and never fires sooner than 1 ms, and a timer may fire up to about a millisecond before its
 * instant. So:
 * - a step due within the resolution runs on the next turn of the event loop (`setImmediate`),
 *   up to 1 ms before its instant — rounding it up to a timer would add a millisecond or more to
 *   every modeled sub-millisecond cost;
 * - an exact timer sleeps on `setTimeout` until 2 ms before its instant, then waits on the event
 *   loop (which keeps serving sockets, in naps of at most 0.2 ms off the main thread) until the
 *   instant has come. Only bytes a node puts on the wire need that: they are when the broker and the
 *   other nodes see the model's instants.
 */
export class RealScheduler implements Scheduler {
  private readonly exact = new TimerHeap();
  private spin: NodeJS.Immediate | undefined;

  constructor(private readonly origin = 0) {}

  now(): number {
    return performance.now() - this.origin;
  }

  at(atMs: number, fn: () => void, exact = false): Timer {
    const delay = atMs - this.now();
    if (exact) return this.atExactly(atMs, fn, delay);
    if (delay < TIMER_RESOLUTION_MS) {
      const i = setImmediate(fn);
      return { cancel: () => clearImmediate(i) };
    }
    const t = setTimeout(fn, delay);
    return { cancel: () => clearTimeout(t) };
  }

  private atExactly(atMs: number, fn: () => void, delay: number): Timer {
    const e = this.exact.entry(atMs, fn);
    let sleep: NodeJS.Timeout | undefined;
    if (delay > SPIN_MS) sleep = setTimeout(() => this.queue(e), delay - SPIN_MS);
    else this.queue(e);
    return {
      cancel: () => {
        clearTimeout(sleep);
        e.fn = undefined;
      },
    };
  }

  private queue(e: TimerEntry): void {
    if (e.fn === undefined) return;
    this.exact.push(e);
    this.spin ??= setImmediate(this.tick);
  }

  private readonly tick = (): void => {
    this.spin = undefined;
    this.exact.runDue(this.now());
    const next = this.exact.peek();
    if (next === undefined) return;
    if (!isMainThread) {
      const wait = Math.min(next.at - this.now(), NAP_MS);
      if (wait > 0.02) Atomics.wait(NAP_CELL, 0, 0, wait);
    }
    this.spin = setImmediate(this.tick);
  };
}

/** Virtual time: nothing happens until `advance`/`runUntil`; timers at equal times run in order set. */
export class FakeScheduler implements Scheduler {
  private t: number;
  private readonly timers = new TimerHeap();

  constructor(start = 0) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  at(atMs: number, fn: () => void): Timer {
    const e = this.timers.entry(Math.max(atMs, this.t), fn);
    this.timers.push(e);
    return {
      cancel: () => {
        e.fn = undefined;
      },
    };
  }

  /** Runs every timer due up to `until`, then sets the time to `until`. */
  runUntil(until: number): void {
    this.timers.runDue(until, (at) => {
      this.t = at;
    });
    this.t = Math.max(this.t, until);
  }

  advance(ms: number): void {
    this.runUntil(this.t + ms);
  }

  /** Pending (not cancelled) timers. */
  get pending(): number {
    return this.timers.size;
  }
}
