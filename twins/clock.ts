/**
 * The twins layer's time. Every timestamp and timer of the service (last-seen, the in-sync series,
 * the connect timeout, re-check delays, the convergence throttle, the services lookup's bound) goes
 * through one injected `Scheduler` (node/'s shape: `now()` and `at(atMs, fn)`). `wallScheduler` is
 * the one real-time implementation in twins/: wall time in ms since the Unix epoch, on Node's timers.
 * Tests and virtual runs pass `FakeScheduler` (node/scheduler.ts) instead.
 */
import type { Scheduler, Timer } from "../node/scheduler.js";

export type { Scheduler, Timer } from "../node/scheduler.js";

/** Wall time (ms since the Unix epoch) on Node's timers; a timer already due runs on the next turn. */
export const wallScheduler: Scheduler = {
  now: () => Date.now(),
  at(atMs: number, fn: () => void): Timer {
    const t = setTimeout(fn, Math.max(0, atMs - Date.now()));
    return { cancel: () => clearTimeout(t) };
  },
};

/** Runs `fn` `delayMs` from now on `sched`. */
export function after(sched: Scheduler, delayMs: number, fn: () => void): Timer {
  return sched.at(sched.now() + delayMs, fn);
}
