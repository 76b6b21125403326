/**
 * The waits of a run's boot and press phases that stop() ends early: until a time, or until a
 * condition holds (polled) or a deadline passes. Once stopped, every wait resolves at once. Times and
 * timers are on the run's scheduler.
 */
import { every, type Scheduler } from "../node/scheduler.js";

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
