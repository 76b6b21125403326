/**
 * The long tier's `down` minutes for a stall of the service's own process (SIGSTOP/SIGCONT, a paused
 * VM, a loop held by a save), on a fake clock with the process's stall watch: a minute is down when
 * the stall covered some of it, and no other. It was judged by the minute timer's lateness alone:
 * a 3 s stall that began as a minute ended was told as two minutes down, and one within a minute,
 * or across its end but over less than 2 s after it, as none.
 */
import { describe, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { StallWatch } from "../../node/stall-watch.js";
import { fleetFeed } from "../convergence-feed.js";
import { MINUTE_MS, type MinutePoint, MinuteTier } from "../minute-tier.js";
import { followersReport } from "./reports.js";

const HOUR = 60 * MINUTE_MS;
const T0 = 10 * HOUR;
const share = { fraction: 1, inSync: 4, known: 4 };

/** A tier at 10:00:00 holding 4 of 4 in sync, its process watched for stalls when `watched`. */
function tierAt(watched = true) {
  const scheduler = new FakeScheduler(T0);
  const stalls = watched ? new StallWatch(scheduler) : undefined;
  const tier = new MinuteTier({ scheduler, capacity: 100, restored: [], stalls });
  tier.added({ t: T0, ...share });
  /** Runs to `at` (ms after 10:00:00), then the process does not run for `ms`. */
  const stallAt = (at: number, ms: number) => {
    scheduler.advance(T0 + at - scheduler.now());
    scheduler.jump(ms);
  };
  /** Runs to `at` (ms after 10:00:00); the minutes closed by then, as offsets from 10:00 with `down`. */
  const downs = (at: number) => {
    scheduler.advance(T0 + at - scheduler.now());
    return tier.closedMinutes().map((m: MinutePoint) => [(m.t - T0) / MINUTE_MS, m.down === true]);
  };
  return { tier, stallAt, downs };
}

describe("the minutes a stall of the service is told down in", () => {
  it("a 3 s stall that began as the minute ended: only the minute it was in", () => {
    const a = tierAt();
    a.stallAt(MINUTE_MS - 1, 3_000); // stopped at 10:00:59.999, the minute timer due at 10:01:00 behind it
    expect(a.downs(3 * MINUTE_MS)).toEqual([
      [0, false],
      [1, true],
      [2, false],
    ]);
    // The tier's first minute: its 4 followers new to it (joining).
    expect(a.tier.closedMinutes()[0]).toEqual({ t: T0, ...share, joining: true });
  });

  it("a 3 s stall within a minute: that minute, though its timer came on time", () => {
    const a = tierAt();
    a.stallAt(20_000, 3_000); // 10:00:20 to 10:00:23
    expect(a.downs(2 * MINUTE_MS)).toEqual([
      [0, true],
      [1, false],
    ]);
  });

  it("a 3 s stall across a minute's end: both minutes, though the timer came 1.5 s late", () => {
    const a = tierAt();
    a.stallAt(MINUTE_MS - 1_500, 3_000); // 10:00:58.5 to 10:01:01.5
    expect(a.downs(3 * MINUTE_MS)).toEqual([
      [0, true],
      [1, true],
      [2, false],
    ]);
  });

  it("a stall of 150 s: the minute it began in, those it slept through, the one it woke in", () => {
    const a = tierAt();
    a.stallAt(20_000, 150_000); // 10:00:20 to 10:02:50
    expect(a.downs(4 * MINUTE_MS)).toEqual([
      [0, true],
      [1, true],
      [2, true],
      [3, false],
    ]);
    expect(a.tier.closedMinutes()[1]).toEqual({ t: T0 + MINUTE_MS, down: true });
  });

  it("the minute under way shows a stall in it as soon as the process runs again, not at its close", () => {
    // Served so by /api/convergence/minutes: a 3 s SIGSTOP at :15 showed in its minute only once the
    // minute closed, 42 s later.
    const a = tierAt();
    a.stallAt(20_000, 3_000); // 10:00:20 to 10:00:23, read at once
    expect(a.tier.all()).toEqual([{ t: T0, ...share, joining: true, down: true }]);
    a.downs(MINUTE_MS + 30_000); // the minute closed down; the next one under way is not
    expect(a.tier.all().map((m) => m.down === true)).toEqual([true, false]);
    const b = tierAt();
    b.stallAt(20_000, 1_500); // a pause shorter than a stall
    expect(b.tier.all()).toEqual([{ t: T0, ...share, joining: true }]);
    const c = tierAt(false); // virtual time: a stall is judged by the minute's timer, at its close
    c.stallAt(20_000, 3_000);
    expect(c.tier.all()).toEqual([{ t: T0, ...share, joining: true }]);
  });

  it("a pause shorter than a stall (1.5 s) marks nothing", () => {
    const a = tierAt();
    a.stallAt(MINUTE_MS - 500, 1_500);
    expect(a.downs(2 * MINUTE_MS).some(([, down]) => down)).toBe(false);
  });

  it("without a stall watch (virtual time), a timer 2 s late is a stop before the minute's end, to now", () => {
    const a = tierAt(false);
    a.stallAt(MINUTE_MS - 1, 3_000);
    expect(a.downs(3 * MINUTE_MS)).toEqual([
      [0, true],
      [1, true],
      [2, false],
    ]);
  });

  it("a service's feed tells its minutes by the service's stall watch", () => {
    const scheduler = new FakeScheduler(T0);
    const stalls = new StallWatch(scheduler);
    const registry = { size: 4, presenceOf: () => "online" as const };
    const owner = { convergence: () => followersReport(4), emit: () => true };
    const feed = fleetFeed({ scheduler, historyCapacity: 64, stalls }, registry, 1, owner);
    feed.schedule();
    scheduler.advance(20_000);
    scheduler.jump(3_000); // 10:00:20 to 10:00:23: its minute timer on time
    expect(feed.minutes().map((m) => m.down === true)).toEqual([true]); // the minute under way
    scheduler.advance(2 * MINUTE_MS - scheduler.now() + T0);
    expect(feed.minutes().map((m) => m.down === true)).toEqual([true, false, false]);
    feed.stop();
  });
});
