/**
 * A minute in which nodes were still registering (twins/minute-tier.ts, MinutePoint.joining): a
 * fleet's first minute held `0 of 2` (the first two followers heard, neither in sync yet), which the
 * console and the page gave as the fleet's lowest, `lowest 0.0 % (0 of 2)`, under a fleet in sync
 * since. A minute in which followers new to the service appeared is marked; its share is kept as
 * measured. A service that knew its followers (restored from its data directory) marks none.
 */
import { describe, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { MINUTE_MS, MinuteTier, minutesFrom } from "../minute-tier.js";
import type { SeriesPoint } from "../types.js";

const T0 = 10 * 60 * MINUTE_MS;
const point = (at: number, inSync: number, known: number): SeriesPoint => ({
  t: T0 + at,
  fraction: known === 0 ? 1 : inSync / known,
  inSync,
  known,
  online: known,
});

/** A fleet's start as a service without a data directory sees it: 20 followers heard within 5 s. */
const registering = [point(0, 0, 0), point(1_000, 0, 2), point(3_000, 12, 20), point(5_000, 20, 20)];

function tier(last?: SeriesPoint) {
  const scheduler = new FakeScheduler(T0);
  const t = new MinuteTier({ scheduler, capacity: 100, restored: [], ...(last ? { last } : {}) });
  /** Adds `p` at its time. */
  const add = (p: SeriesPoint) => {
    scheduler.advance(p.t - scheduler.now());
    t.added(p);
  };
  return { t, scheduler, add };
}

describe("the minutes in which nodes joined", () => {
  it("marks the fleet's first minute joining, its share as measured, and not the minutes after", () => {
    const a = tier();
    for (const p of registering) a.add(p);
    a.add(point(MINUTE_MS + 30_000, 19, 20)); // a follower a press behind, 10:01:30
    a.scheduler.advance(T0 + 2 * MINUTE_MS - a.scheduler.now());
    expect(a.t.closedMinutes()).toEqual([
      { t: T0, fraction: 0, inSync: 0, known: 2, online: 2, joining: true },
      { t: T0 + MINUTE_MS, fraction: 0.95, inSync: 19, known: 20, online: 20 },
    ]);
  });

  it("marks a minute in which a node was added to a running fleet", () => {
    const a = tier(point(-1_000, 20, 20));
    a.add(point(10_000, 20, 20));
    a.add(point(MINUTE_MS + 10_000, 20, 21));
    a.add(point(MINUTE_MS + 12_000, 21, 21));
    a.scheduler.advance(T0 + 3 * MINUTE_MS - a.scheduler.now());
    expect(a.t.closedMinutes().map((m) => m.joining === true)).toEqual([false, true, false]);
  });

  it("marks none on a service restored with its followers, nor on minutes rebuilt from its points", () => {
    const a = tier({ ...point(-30_000, 20, 20), stoppedUntil: T0 - 5_000 });
    a.add(point(2_000, 20, 20));
    a.scheduler.advance(T0 + MINUTE_MS - a.scheduler.now());
    expect(a.t.closedMinutes()[0]?.joining).toBeUndefined();
    // The points kept from 10:01 on, those before dropped past the series' capacity.
    const kept = [point(MINUTE_MS, 20, 20), point(MINUTE_MS + 5_000, 18, 20)];
    expect(minutesFrom(kept, T0 + MINUTE_MS, T0 + 2 * MINUTE_MS)[0]?.joining).toBeUndefined();
    expect(minutesFrom(registering, T0, T0 + MINUTE_MS)[0]?.joining).toBe(true);
  });
});
