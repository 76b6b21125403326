/**
 * The waits of a run's boot and press phases that stop() ends early: until a time, or until a
 * condition holds (polled) or a deadline passes. Once stopped, every wait resolves at once.
 */
export class StoppableWaits {
  private end: (() => void) | undefined;
  private stopped = false;

  constructor(private readonly now: () => number = () => performance.now()) {}

  stop(): void {
    this.stopped = true;
    this.end?.();
  }

  /** Until `at` on the clock, or stop(). */
  until(at: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.stopped) return resolve();
      const t = setTimeout(resolve, Math.max(0, at - this.now()));
      this.end = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  /** Until `done()` holds (checked every 100 ms) or `deadline` has passed, or stop(). */
  poll(done: () => boolean, deadline: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.stopped) return resolve();
      const finish = () => {
        clearInterval(timer);
        resolve();
      };
      const timer = setInterval(() => {
        if (done() || this.now() >= deadline) finish();
      }, 100);
      this.end = finish;
    });
  }
}
