/**
 * A host under load, for tests on virtual time: every timer runs `lateMs` after it was due, as Node's
 * do on a busy host (measured: a 1 s timer 5 ms late on an idle one, each of a once-a-second look
 * after the last one's lateness, 155 ms behind after 35 of them).
 */
import type { FakeScheduler, Scheduler, Timer } from "../scheduler.js";

export class LateHost implements Scheduler {
  constructor(
    readonly fake: FakeScheduler,
    private readonly lateMs: number,
  ) {}

  now(): number {
    return this.fake.now();
  }

  wallNow(): number {
    return this.fake.wallNow();
  }

  at(atMs: number, fn: () => void): Timer {
    return this.fake.at(Math.max(atMs, this.fake.now()) + this.lateMs, fn);
  }
}
