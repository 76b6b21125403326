/**
 * The long tier through the service's re-read of the broker's retained state (twins/minute-tier.ts,
 * reread), on a fake clock: after a reconnect the broker replays its reports one by one, and until
 * a follower's own report came after its source's newer one it was shown behind. The minute kept
 * that half-refreshed view as its lowest share (a fleet of 600 at 0.77 for the minute of each
 * reconnect), and the console's and page's `lowest` told the service's own re-read as a fleet's dip.
 * The minute now holds the share from before through the re-read, then takes the one after it.
 */
import { describe, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { Prefix } from "../../protocol/index.js";
import { fleetFeed } from "../convergence-feed.js";
import { IncrementalConvergence } from "../convergence-incremental.js";
import { MINUTE_MS, MinuteTier } from "../minute-tier.js";
import { TwinRegistry } from "../registry.js";
import type { SeriesPoint } from "../types.js";

const T0 = 10 * 60 * MINUTE_MS;

/** A registry and its feed, as the service wires them: B a source, A and C following it, all in sync at 5@B. */
function fleet() {
  const scheduler = new FakeScheduler(T0);
  const registry = new TwinRegistry(Prefix("tf"));
  const converged = new IncrementalConvergence();
  const owner = {
    convergence() {
      const { nodes, changed, reordered } = registry.convergenceChanges();
      return reordered ? converged.update(nodes) : converged.updateChanged(nodes, changed);
    },
    emit: () => true,
  };
  const feed = fleetFeed({ scheduler, historyCapacity: 100 }, registry, 0.1, owner);
  /** The broker sends `payload` on `topic` (`retained`: replayed), and the feed has run after it. */
  const hear = (topic: string, payload: string, retained = false) => {
    registry.receive(topic, payload, 1, scheduler.now(), retained);
    feed.schedule();
    scheduler.advance(1_000);
  };
  registry.brokerSession();
  for (const n of ["A", "B", "C"]) hear(`tf/status/${n}`, "T1 1", true);
  hear("tf/config/A", "C1 1 B", true);
  hear("tf/config/C", "C1 1 B", true);
  for (const n of ["B", "A", "C"]) hear(`tf/report/${n}`, "R1 1 5 B", true);
  registry.replayOver();
  scheduler.advance(T0 + MINUTE_MS - scheduler.now()); // 10:01:00, all in sync
  return { scheduler, registry, feed, hear };
}

describe("the minutes through a re-read of the broker's state", () => {
  it("keep the share from before and the one after, not the re-read's half-refreshed view", () => {
    const f = fleet();
    f.scheduler.advance(20_000);
    // 10:01:20: the service reconnects; B was pressed twice meanwhile, and its followers took it.
    f.registry.brokerSession();
    f.hear("tf/report/B", "R1 0 7 B", true); // A and C shown behind until their own reports come
    f.hear("tf/report/A", "R1 0 7 B", true);
    f.hear("tf/report/C", "R1 0 7 B", true);
    expect(f.feed.history().map((p) => p.inSync)).toContain(0); // measured: the fine series keeps it
    f.registry.replayOver();
    f.scheduler.advance(T0 + 2 * MINUTE_MS - f.scheduler.now());
    expect(f.feed.minutes().at(-2)).toEqual({
      t: T0 + MINUTE_MS,
      fraction: 1,
      inSync: 2,
      known: 2,
      online: 2,
    });
  });

  it("a follower behind in the fleet is still counted once the re-read is over", () => {
    const f = fleet();
    f.registry.brokerSession();
    f.hear("tf/report/B", "R1 0 7 B", true);
    f.hear("tf/report/A", "R1 0 7 B", true); // C never took it: behind in the fleet, not in the re-read
    f.registry.replayOver();
    f.scheduler.advance(T0 + 2 * MINUTE_MS - f.scheduler.now());
    expect(f.feed.minutes().at(-2)).toMatchObject({ fraction: 0.5, inSync: 1, known: 2 });
  });
});

describe("the tier told of a re-read", () => {
  const point = (at: number, inSync: number): SeriesPoint => ({
    t: T0 + at,
    fraction: inSync / 4,
    inSync,
    known: 4,
    online: 4,
  });

  it("holds the share from before across a minute's end within the re-read, and keeps it when nothing changed", () => {
    const scheduler = new FakeScheduler(T0);
    const tier = new MinuteTier({ scheduler, capacity: 10, restored: [], last: point(-5_000, 4) });
    scheduler.advance(50_000);
    tier.reread(true);
    tier.added(point(55_000, 1));
    scheduler.advance(15_000); // 10:01:05, the re-read still under way
    tier.added(point(65_000, 2));
    tier.reread(false);
    tier.reread(false); // told twice: nothing more
    scheduler.advance(2 * MINUTE_MS - scheduler.now() + T0);
    expect(tier.closedMinutes().map((m) => m.inSync)).toEqual([4, 2]);
    // A re-read that changed nothing: the share from before stands.
    tier.reread(true);
    tier.reread(false);
    scheduler.advance(MINUTE_MS);
    expect(tier.closedMinutes().at(-1)).toMatchObject({ inSync: 2 });
  });
});
