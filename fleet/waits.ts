/**
 * The waits of a run's boot and press phases that stop() ends early: until a time, or until a
 * condition holds (polled) or a deadline passes. Once stopped, every wait resolves at once. Also the
 * wait for a broker's retained state after subscribing, before the run pairs its nodes. Times and
 * timers are on the run's scheduler.
 */
import { after, every, type Scheduler, type Timer } from "../node/scheduler.js";

/** The retained flood after subscribing is over after this long without a message, or this long at most. */
const RETAINED_QUIET_MS = 300;
const RETAINED_MAX_MS = 3000;

/**
 * Resolves once the retained flood after subscribing has gone quiet: RETAINED_QUIET_MS without a
 * message (from the call on), or RETAINED_MAX_MS at most. `listen` hands its argument to whatever
 * sees the messages and returns what stops it seeing them.
 */
export function retainedSettled(
  sched: Scheduler,
  listen: (message: () => void) => () => void,
): Promise<void> {
  return new Promise((resolve) => {
    let quiet: Timer | undefined;
    const done = () => {
      quiet?.cancel();
      bound.cancel();
      unlisten();
      resolve();
    };
    const bump = () => {
      quiet?.cancel();
      quiet = after(sched, RETAINED_QUIET_MS, done);
    };
    const bound = after(sched, RETAINED_MAX_MS, done);
    const unlisten = listen(bump);
    bump();
  });
}

export class StoppableWaits {
  private end: (() => void) | undefined;
  private stopped = false;

  constructor(private readonly sched: Scheduler) {}

  stop(): void {
    this.stopped = true;
    this.end?.();
  }

  /** Until `at` on the clock, or stop(). */
  until(at: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.stopped) return resolve();
      const t = this.sched.at(at, resolve);
      this.end = () => {
        t.cancel();
        resolve();
      };
    });
  }

  /** Until `done()` holds (checked every 100 ms) or `deadline` has passed, or stop(). */
  poll(done: () => boolean, deadline: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.stopped) return resolve();
      const finish = () => {
        timer.cancel();
        resolve();
      };
      const timer = every(this.sched, 100, () => {
        if (done() || this.sched.now() >= deadline) finish();
      });
      this.end = finish;
    });
  }
}
