/**
 * The one clock of the project: a Scheduler gives the time (ms, fractional), the date that time is
 * (`wallNow`), and runs callbacks at a time. `RealScheduler` runs on wall time (fleet runs, the twins
 * service, the console, the sweep); `FakeScheduler` runs on virtual time for tests and offline models.
 * This file is the only one outside tests and the harnesses that reads the host's clock or sets a
 * host timer (time.test.ts checks); everything else asks an injected Scheduler, through `after`,
 * `every` and `sleep` below for delays, repeats and awaits. Nodes hold no timers of their own beyond
 * what they ask of it, so many nodes share one scheduler and no node spins a timer per loop iteration.
 */
import { isMainThread } from "node:worker_threads";
import { HeapSlot, type TimerEntry, TimerHeap } from "./timer-heap.js";
import { wallOrigin } from "./wall-origin.js";

/** The date `performance.now()` counts from in this thread, found once (node/wall-origin.ts). */
let origin: number | undefined;
/** How far the date `wallNow()` gives may be from the host's (the last origin found's bound). */
let bound = 0;
function timeOrigin(): number {
  if (origin === undefined)
    ({ origin, uncertaintyMs: bound } = wallOrigin(Date.now, () => performance.now()));
  return origin;
}

/**
 * How far the host's clock has been stepped since `origin` was found: NTP setting the clock of a
 * board that booted in 1970 or on a stale date, an operator putting back a clock that ran ahead.
 * `performance.now()` (the monotonic clock) does not move with a step; the date does.
 */
let stepped = 0;
/** The host's date and `origin + stepped + performance.now()` this far apart: its clock was stepped. */
export const CLOCK_STEP_MS = 1000;

/** The host's date now, in fractional ms, following its clock's steps (found again on each). */
function hostDate(): number {
  const t = timeOrigin() + stepped + performance.now();
  if (Math.abs(Date.now() - t) < CLOCK_STEP_MS) return t;
  const found = wallOrigin(Date.now, () => performance.now());
  stepped = found.origin - timeOrigin();
  bound = found.uncertaintyMs;
  return timeOrigin() + stepped + performance.now();
}

export interface Timer {
  cancel(): void;
}

export interface Scheduler {
  /** Current time in ms, on the scheduler's own origin. */
  now(): number;
  /**
   * The date `now()` is, in ms since the Unix epoch: for what is shown or stored as a date (a
   * report's `at`, a presence's `since`). It moves with `now()` — `wallNow() - now()` is constant —
   * until the host's clock is stepped (NTP setting a clock that booted wrong, an operator putting
   * back one that ran ahead): a real scheduler's `wallNow()` then jumps to the host's new date while
   * `now()` runs on unmoved. So measure durations on `now()`, and keep `wallNow()` for dates.
   */
  wallNow(): number;
  /**
   * How far `wallNow()` may be from the host's date as its clock reads, in ms, as the reads that
   * found it prove (node/wall-origin.ts); absent on a virtual clock, whose date is exact.
   */
  wallBoundMs?(): number;
  /**
   * Runs `fn` at time `atMs` (or as soon as possible if that is already past). A model step uses
   * its own `atMs` as the time it happens, so a wall-clock scheduler may run it a little early.
   * `exact` asks for no earlier than `atMs`, as close to it as the host allows: for what the world
   * outside the model sees at that instant (bytes written to a real socket).
   */
  at(atMs: number, fn: () => void, exact?: boolean): Timer;
  /** A re-armable timer for `fn` that allocates nothing per use (optional: see `timerSlot`). */
  slot?(fn: () => void): TimerSlot;
  /** `at` for a timer no one will cancel, with no handle made for it (optional: see `postAt`). */
  post?(atMs: number, fn: () => void): void;
  /** `at` for a timer that does not keep the process alive (a watch): where the host's timers do. */
  atIdle?(atMs: number, fn: () => void): Timer;
}

/** Runs `fn` at `atMs` on `sched`, never to be cancelled: no handle made where the scheduler can do without. */
export function postAt(sched: Scheduler, atMs: number, fn: () => void): void {
  if (sched.post) sched.post(atMs, fn);
  else sched.at(atMs, fn);
}

/**
 * One callback that is pending at most once, moved by `set` without a new timer each time: what a
 * node's loop wake-up or a link's delivery timer needs, re-armed for every packet. Its order among
 * timers at one instant is the one `cancel()` and a new `at()` would give.
 */
export interface TimerSlot {
  /** Arms it at `atMs` (moving it if it is armed). */
  set(atMs: number, exact?: boolean): void;
  cancel(): void;
}

/** A slot on `sched`: its own when it has them (virtual time), else one made of `at()` and `cancel()`. */
export function timerSlot(sched: Scheduler, fn: () => void): TimerSlot {
  if (sched.slot) return sched.slot(fn);
  let timer: Timer | undefined;
  return {
    set: (atMs, exact) => {
      timer?.cancel();
      timer = sched.at(atMs, fn, exact);
    },
    cancel: () => {
      timer?.cancel();
      timer = undefined;
    },
  };
}

/** Node's timers count whole milliseconds of a loop clock cached at the start of each turn. */
const TIMER_RESOLUTION_MS = 1;
/** An exact timer wakes this long before its instant and waits the rest on the event loop. */
const SPIN_MS = 2;
/**
 * While an exact timer is close, a worker thread sleeps at most this long between turns of its event
 * loop instead of spinning them: a thread spinning for every write took 30 % of a core at 2,500
 * nodes. The broker thread ends a nap when it posts to the thread (napCell); anything else arriving
 * meanwhile is read up to this much later — never earlier. The main thread (nodes beside the broker)
 * spins: sleeping there would hold the broker up.
 */
const NAP_MS = 0.2;
const NAP_CELL = new Int32Array(new SharedArrayBuffer(4));

/**
 * This thread's nap cell: a thread that posts it a message and then calls `endNap` on the cell ends
 * its nap, so what it sent is read at once rather than up to NAP_MS later.
 */
export function napCell(): SharedArrayBuffer {
  return NAP_CELL.buffer as SharedArrayBuffer;
}

/**
 * Ends the nap of the thread whose cell this is, or the next one if it is not napping yet: the flag
 * stays set until that thread's nap (which then returns at once) clears it — a notify alone wakes
 * only a thread already waiting.
 */
export function endNap(cell: Int32Array): void {
  Atomics.store(cell, 0, 1);
  Atomics.notify(cell, 0);
}

/**
 * Wall time from `performance.now()` (or a given origin; `RealScheduler.epoch()` counts from the Unix
 * epoch, for a service whose times are stored). `setTimeout` has millisecond resolution
 * and never fires sooner than 1 ms, and a timer may fire up to about a millisecond before its
 * instant. So:
 * - a step due within the resolution runs on the next turn of the event loop (`setImmediate`),
 *   up to 1 ms before its instant — rounding it up to a timer would add a millisecond or more to
 *   every modeled sub-millisecond cost;
 * - an exact timer sleeps on `setTimeout` until 2 ms before its instant, then waits on the event
 *   loop (which keeps serving sockets, in naps of at most 0.2 ms off the main thread, which the
 *   broker thread's posts cut short) until the instant has come. Only bytes a node puts on the wire
 *   need that: they are when the broker and the other nodes see the model's instants.
 */
export class RealScheduler implements Scheduler {
  private readonly exact = new TimerHeap();
  private spin: NodeJS.Immediate | undefined;

  /** `now()` is `performance.now() - origin`; the thread's date is found here, not in a `now()`/`wallNow()` pair. */
  constructor(private readonly origin = 0) {
    timeOrigin();
  }

  /**
   * A scheduler whose `now()` reads 0 at the date `zeroAtMs` (ms since the Unix epoch). Another
   * thread's scheduler is followed with its `wallNow() - now()`: both then read the same time.
   */
  static zeroAt(zeroAtMs: number): RealScheduler {
    return new RealScheduler(zeroAtMs - timeOrigin());
  }

  /** A scheduler whose `now()` is ms since the Unix epoch (`now()` equals `wallNow()`). */
  static epoch(): RealScheduler {
    return RealScheduler.zeroAt(0);
  }

  now(): number {
    return performance.now() - this.origin;
  }

  /** The host's date: `now()` plus a constant, until the host's clock is stepped (then its new date). */
  wallNow(): number {
    return hostDate();
  }

  wallBoundMs(): number {
    timeOrigin();
    return bound;
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

  atIdle(atMs: number, fn: () => void): Timer {
    const t = setTimeout(fn, Math.max(0, atMs - this.now()));
    t.unref();
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

  /**
   * One turn of the wait for exact timers: nap first, then run what is due, and return — so what the
   * timers wrote is posted (node/port-frames.ts posts bytes once the task that wrote them is done)
   * before the thread naps again, not after.
   */
  private readonly tick = (): void => {
    this.spin = undefined;
    const first = this.exact.peek();
    if (first === undefined) return;
    if (!isMainThread) {
      const wait = Math.min(first.at - this.now(), NAP_MS);
      // A post that came before the nap has set the cell: the wait then returns at once.
      if (wait > 0.02) Atomics.wait(NAP_CELL, 0, 0, wait);
      Atomics.store(NAP_CELL, 0, 0);
    }
    this.exact.runDue(this.now());
    if (this.exact.peek() !== undefined) this.spin = setImmediate(this.tick);
  };
}

/**
 * Virtual time: nothing happens until `advance`/`runUntil`; timers at equal times run in order set.
 * `wallNow()` is `epochMs + now()` (default 0: the date is the virtual time itself), until `stepWall`.
 */
export class FakeScheduler implements Scheduler {
  private t: number;
  private readonly timers = new TimerHeap();

  constructor(
    start = 0,
    private epochMs = 0,
  ) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  wallNow(): number {
    return this.epochMs + this.t;
  }

  /**
   * Steps the date by `ms` (back when negative) and not the time: what NTP setting the host's clock,
   * or an operator putting it back, does to a real scheduler's `wallNow()` and `now()`.
   */
  stepWall(ms: number): void {
    this.epochMs += ms;
  }

  at(atMs: number, fn: () => void): Timer {
    const e = this.timers.entry(Math.max(atMs, this.t), fn);
    this.timers.push(e);
    return e;
  }

  slot(fn: () => void): TimerSlot {
    return new HeapSlot(this.timers, fn, this);
  }

  post(atMs: number, fn: () => void): void {
    this.timers.post(Math.max(atMs, this.t), fn);
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

  /**
   * The host did not run for `ms` (stopped, its VM paused): the time moves on with no timer run, then
   * every timer that came due meanwhile runs at once, late, at the new time — as a real scheduler's do
   * when the process runs again.
   */
  jump(ms: number): void {
    const to = this.t + ms;
    this.t = to;
    this.timers.runDue(to, () => {
      this.t = to;
    });
  }

  /**
   * Runs timers in order, however far ahead, until `stop()` holds after one of them (true) or none is
   * left (false). The time is then that of the last timer run: for a driver that lets the host catch
   * up (promise continuations) after the timers that need it.
   */
  runUntilStopped(stop: () => boolean): boolean {
    return this.timers.runDue(
      Number.POSITIVE_INFINITY,
      (at) => {
        this.t = at;
      },
      stop,
    );
  }

  /** When the next live timer is due; undefined when none is set. */
  nextAt(): number | undefined {
    return this.timers.peek()?.at;
  }

  /** Pending (not cancelled) timers. */
  get pending(): number {
    return this.timers.size;
  }
}

/** Runs `fn` `delayMs` from now on `sched`. */
export function after(sched: Scheduler, delayMs: number, fn: () => void): Timer {
  return sched.at(sched.now() + delayMs, fn);
}

/**
 * Runs `fn` every `periodMs` on `sched` until cancelled, each run `periodMs` after the previous one
 * began (as Node's `setInterval`: a late run does not bring the next ones forward).
 */
export function every(sched: Scheduler, periodMs: number, fn: () => void): Timer {
  if (!(periodMs > 0))
    throw new RangeError(`every: periodMs must be a positive number of ms, got ${periodMs}`);
  let stopped = false;
  let timer: Timer;
  const run = (): void => {
    timer = after(sched, periodMs, run);
    fn();
  };
  timer = after(sched, periodMs, run);
  return {
    cancel: () => {
      if (stopped) return;
      stopped = true;
      timer.cancel();
    },
  };
}

/**
 * Resolves on the host's next turn of its event loop, after every promise continuation already
 * queued: what a virtual-time driver awaits so that the code it drives catches up.
 */
export function hostTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Resolves `ms` from now on `sched`. */
export function sleep(sched: Scheduler, ms: number): Promise<void> {
  return new Promise((resolve) => after(sched, ms, resolve));
}

/**
 * The date at which `sched.now()` reads 0, and how far off it may be (ms): the date's own bound plus
 * half the span of two `now()` reads around `wallNow()`, the narrowest of up to `tries` (to 0.01 ms):
 * from one try, a thread held 20 ms off its core between the reads put the date up to 10 ms off.
 */
export function datedZero(sched: Scheduler, tries = 50): { dateMs: number; boundMs: number } {
  let [dateMs, span] = [0, Number.POSITIVE_INFINITY];
  for (let i = 0; i < tries && span > 0.01; i++) {
    const before = sched.now();
    const date = sched.wallNow();
    const after = sched.now();
    if (after - before < span) [dateMs, span] = [date - (before + after) / 2, after - before];
  }
  return { dateMs, boundMs: (sched.wallBoundMs?.() ?? 0) + span / 2 };
}
