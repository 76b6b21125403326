/**
 * The fine series and the long tier through the service's re-read of the broker's retained state
 * (twins/reread-hold.ts), on a fake clock: after a reconnect the broker replays its reports one by
 * one, and until a follower's own report came after its source's newer one it was shown behind. The
 * minute kept that half-refreshed view as its lowest share (a fleet of 600 at 0.77 for the minute of
 * each reconnect), and the fine series (`/api/convergence`, the page's recent chart) showed it as a
 * dip of the fleet at each reconnect. Both now take points that hold the share from before through
 * the re-read, marked `held`, then the one measured after it.
 */
import { describe, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { Prefix } from "../../protocol/index.js";
import { fleetFeed } from "../convergence-feed.js";
import { IncrementalConvergence } from "../convergence-incremental.js";
import { MINUTE_MS } from "../minute-tier.js";
import { TwinRegistry } from "../registry.js";

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

describe("the fine series through a re-read", () => {
  it("holds the share from before, marked held, then adds the one measured after it", () => {
    const f = fleet();
    const before = f.feed.history().length;
    f.registry.brokerSession();
    f.hear("tf/report/B", "R1 0 7 B", true); // A and C shown behind: 0 of 2 as measured
    f.hear("tf/report/A", "R1 0 7 B", true);
    f.hear("tf/report/C", "R1 0 7 B", true);
    const during = f.feed.history().slice(before);
    expect(during.map((p) => p.inSync)).not.toContain(0);
    expect(during.length).toBeGreaterThan(0);
    expect(during.every((p) => p.held === true && p.inSync === 2 && p.fraction === 1)).toBe(true);
    f.registry.replayOver();
    f.scheduler.advance(1_000);
    // The share measured after it, all in sync again: the same figures, the held stretch ended.
    expect(f.feed.history().at(-1)).toEqual({
      t: T0 + MINUTE_MS + 3_000, // as the replay ended
      fraction: 1,
      inSync: 2,
      known: 2,
      online: 2,
    });
  });

  it("holds it across a minute's end within the re-read, and the minute after takes the share after it", () => {
    const f = fleet();
    f.scheduler.advance(55_000); // 10:01:55
    f.registry.brokerSession();
    f.hear("tf/report/B", "R1 0 7 B", true);
    f.scheduler.advance(T0 + 2 * MINUTE_MS + 5_000 - f.scheduler.now()); // 10:02:05, still under way
    f.hear("tf/report/A", "R1 0 7 B", true); // C never took it: behind in the fleet
    f.registry.replayOver();
    f.scheduler.advance(T0 + 3 * MINUTE_MS - f.scheduler.now());
    const [m1, m2] = f.feed.minutes().slice(-3, -1);
    expect(m1).toMatchObject({ t: T0 + MINUTE_MS, inSync: 2, known: 2 });
    expect(m2).toMatchObject({ t: T0 + 2 * MINUTE_MS, inSync: 1, known: 2 });
    expect(f.feed.history().at(-1)).toMatchObject({ inSync: 1, known: 2 });
    expect(f.feed.history().at(-1)?.held).toBeUndefined();
  });

  it("adds no point during the service's first read, with nothing measured before it, then the share after it", () => {
    const f = fleet(); // its first read: a subscription with no point before it, its replay over at 10:00:08
    expect(f.feed.history()).toEqual([{ t: T0 + 8_000, fraction: 1, inSync: 2, known: 2, online: 2 }]);
  });

  it("a re-read that changed nothing adds no point", () => {
    const f = fleet();
    const before = f.feed.history();
    f.registry.brokerSession();
    f.hear("tf/report/B", "R1 1 5 B", true);
    f.registry.replayOver();
    f.scheduler.advance(1_000);
    expect(f.feed.history()).toEqual(before);
  });
});
