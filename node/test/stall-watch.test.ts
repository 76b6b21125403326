// A process that did not run for a while (SIGSTOP, a paused VM): its scheduler's timers all run late
// at once when it runs again. The watch tells that stall, even to a timer that runs before its tick.
import { describe, expect, it } from "vitest";
import { FakeScheduler } from "../scheduler.js";
import { STALL_TICK_MS, StallWatch } from "../stall-watch.js";

describe("StallWatch", () => {
  it("finds no stall while the scheduler runs its timers on time", () => {
    const sched = new FakeScheduler(1_000);
    const watch = new StallWatch(sched);
    sched.advance(600_000);
    expect(watch.list()).toEqual([]);
    expect(watch.explaining(sched.now())).toBeUndefined();
  });

  it("tells a stall of the host, to a timer that came due in it before the watch's own tick", () => {
    const sched = new FakeScheduler(1_000);
    const watch = new StallWatch(sched);
    sched.advance(30_000); // runs on time until 31 s
    let seen: ReturnType<StallWatch["explaining"]> | "not run";
    seen = "not run";
    // A keepalive due at 35 s, set before the watch's next tick: it runs first after the stop.
    sched.at(31_100, () => {
      seen = watch.explaining(sched.now());
    });
    const told: unknown[] = [];
    watch.onStall((s) => told.push(s));
    sched.jump(20_000); // stopped at 31 s, runs again at 51 s
    expect(seen).toEqual({ startMs: 31_000 + STALL_TICK_MS, endMs: 51_000 });
    expect(told).toEqual([{ startMs: 31_000 + STALL_TICK_MS, endMs: 51_000 }]);
    sched.advance(2_000);
    expect(watch.explaining(52_000)).toEqual({ startMs: 31_250, endMs: 51_000 });
    expect(watch.explaining(60_000)).toBeUndefined();
    expect(watch.list()).toHaveLength(1);
  });

  it("takes a turn late by less than its bound as no stall", () => {
    const sched = new FakeScheduler(0);
    const watch = new StallWatch(sched);
    sched.jump(1_500);
    sched.advance(1_000);
    expect(watch.list()).toEqual([]);
  });
});
