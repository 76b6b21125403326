/**
 * The convergence series marks where no follower was online (twins/convergence-feed.ts): a fleet
 * that goes offline keeps every follower's last-heard status, so the series used to get no point at
 * all, and a chart of it ran on at the last-heard 100 %. Its points count the followers unheard
 * beside those online, and follow the counts: a point kept the online count of when it was added
 * (1 of 50 after a broker restart while all 50 had been heard since), and a stretch where every
 * follower was unheard read as one with none online.
 */
import { describe, expect, it, vi } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { NodeId, Prefix } from "../../protocol/index.js";
import type { ConvergenceReport, FollowerSync } from "../convergence.js";
import { ConvergenceFeed, fleetFeed } from "../convergence-feed.js";
import { TwinRegistry } from "../registry.js";
import type { Presence } from "../types.js";

const report: ConvergenceReport = {
  followers: [
    { id: NodeId("a"), status: "in-sync", stamp: undefined, target: undefined, waitingOn: [] },
    { id: NodeId("b"), status: "in-sync", stamp: undefined, target: undefined, waitingOn: [] },
  ],
  inSync: 2,
  known: 2,
  fraction: 1,
};

/** A feed over `report` on a fake clock, each follower's presence as `presence` says. */
function feedOver(presence: Map<string, Presence>, of: ConvergenceReport = report) {
  const scheduler = new FakeScheduler(0);
  const emitted: ConvergenceReport[] = [];
  const feed = new ConvergenceFeed({
    scheduler,
    everyMs: 100,
    capacity: 16,
    compute: () => of,
    emit: (r) => emitted.push(r),
    presence: (id) => presence.get(id),
  });
  /** Sets presences, then lets a pass run and a second go by. */
  const step = (moves: Record<string, Presence>) => {
    for (const [id, p] of Object.entries(moves)) presence.set(id, p);
    feed.schedule();
    scheduler.advance(1000);
  };
  return { feed, emitted, step };
}

it("adds a point when the last follower online goes, and when one returns, with how many were online", () => {
  const { feed, emitted, step } = feedOver(
    new Map([
      ["a", "online"],
      ["b", "online"],
    ]),
  );
  step({});
  step({ a: "offline" });
  step({ b: "offline" });
  step({ b: "online" });
  expect(feed.history().map((p) => [p.t, p.online])).toEqual([
    [0, 2],
    [1000, 1],
    [2000, 0],
    [3000, 1],
  ]);
  expect(emitted).toHaveLength(4);
});

it("tells followers unheard after a broker restart from offline ones, and ends with the count now", () => {
  const { feed, step } = feedOver(
    new Map([
      ["a", "online"],
      ["b", "online"],
    ]),
  );
  step({});
  step({ a: "unheard", b: "unheard" }); // the broker restarted
  step({ a: "online" });
  step({ b: "online" });
  expect(feed.history().map((p) => [p.t, p.online, p.unheard])).toEqual([
    [0, 2, undefined],
    [1000, 0, 2],
    [2000, 1, 1],
    [3000, 2, undefined],
  ]);
});

it("keeps one point for a run of counts that move on the same side of zero, the latest", () => {
  const ids = ["a", "b", "c", "d"];
  const presence = new Map<string, Presence>(ids.map((id) => [id, "online"]));
  const followers = ids.map(
    (id): FollowerSync => ({
      id: NodeId(id),
      status: "in-sync",
      stamp: undefined,
      target: undefined,
      waitingOn: [],
    }),
  );
  const { feed, step } = feedOver(presence, { followers, inSync: 4, known: 4, fraction: 1 });
  step({});
  for (let i = 0; i < 20; i++) step({ a: i % 2 === 0 ? "offline" : "online" }); // one node flapping
  step({ b: "offline" });
  expect(feed.history().map((p) => [p.t, p.online])).toEqual([
    [0, 4],
    [21_000, 3],
  ]);
});

it("keeps its points as they were without a presence to ask (a run of its own)", () => {
  const scheduler = new FakeScheduler(0);
  const feed = new ConvergenceFeed({
    scheduler,
    everyMs: 100,
    capacity: 16,
    compute: () => report,
    emit: () => {},
  });
  feed.schedule();
  scheduler.advance(1000);
  feed.schedule();
  scheduler.advance(1000);
  expect(feed.history()).toEqual([{ t: 0, fraction: 1, inSync: 2, known: 2 }]);
});

/**
 * A service's feed over its registry (fleetFeed) asks each follower's presence alone: it built a whole
 * twin view (follows copied, followers looked up) per follower per pass, which on a fleet whose
 * reports never stop was most of what a report cost the service.
 */
describe("fleetFeed over a registry", () => {
  /** A registry of `n` followers of S, all online, each having reported; and the report they make. */
  function fleet(n: number) {
    const registry = new TwinRegistry(Prefix("tf"));
    const followers: FollowerSync[] = [];
    registry.receive("tf/status/S", "T1 1", 0, 0);
    registry.receive("tf/report/S", "R1 1 1 S", 0, 0);
    for (let i = 0; i < n; i++) {
      const id = NodeId(`f${String(i).padStart(3, "0")}`);
      registry.receive(`tf/status/${id}`, "T1 1", 0, 0);
      registry.receive(`tf/config/${id}`, "C1 1 S", 0, 0);
      registry.receive(`tf/report/${id}`, "R1 1 1 S", 0, 0);
      followers.push({ id, status: "in-sync", stamp: undefined, target: undefined, waitingOn: [] });
    }
    return { registry, report: { followers, inSync: n, known: n, fraction: 1 } as ConvergenceReport };
  }

  it("makes no twin view on any pass, and counts the followers online right", () => {
    const { registry, report } = fleet(40);
    const scheduler = new FakeScheduler(0);
    let emitted = 0;
    const owner = { convergence: () => report, emit: () => emitted++ };
    const feed = fleetFeed({ scheduler, historyCapacity: 16 }, registry, 0.1, owner);
    const views = vi.spyOn(TwinRegistry.prototype, "get");
    try {
      for (let pass = 0; pass < 10; pass++) {
        registry.receive("tf/report/S", `R1 1 ${pass + 2} S`, 0, scheduler.now());
        feed.schedule();
        scheduler.advance(1000);
      }
      for (let i = 0; i < 30; i++) registry.receive(`tf/status/f${String(i).padStart(3, "0")}`, "T1 0", 0, 0);
      feed.schedule();
      scheduler.advance(1000);
      expect(views).not.toHaveBeenCalled();
    } finally {
      views.mockRestore();
    }
    // One point when the first pass found them, none while nothing changed, one when 30 went.
    expect(feed.history().map((p) => p.online)).toEqual([40, 10]);
    expect(emitted).toBe(2);
  });
});

it("asks each follower's presence once a pass, and adds no point while nothing moved", () => {
  const scheduler = new FakeScheduler(0);
  let asked = 0;
  const feed = new ConvergenceFeed({
    scheduler,
    everyMs: 100,
    capacity: 16,
    compute: () => report,
    emit: () => {},
    presence: () => {
      asked++;
      return "online";
    },
  });
  for (let pass = 0; pass < 6; pass++) {
    feed.schedule();
    scheduler.advance(1000);
  }
  expect(asked).toBe(6 * 2);
  expect(feed.history().map((p) => p.online)).toEqual([2]);
});

/**
 * A pass whose followers' statuses moved but whose figures did not (one follower out of sync as
 * another came back, followers still unknown registering at a start) added a point that repeated the
 * last one: 7 of 170 points in a kept history of a 100-node fleet, 5 of them in its first half second.
 */
it("adds no point that repeats the last one's figures, and still tells the report", () => {
  const scheduler = new FakeScheduler(0);
  const sync = (id: string, status: FollowerSync["status"]): FollowerSync => ({
    id: NodeId(id),
    status,
    stamp: undefined,
    target: undefined,
    waitingOn: [],
  });
  const passes: ConvergenceReport[] = [
    { followers: [sync("a", "in-sync"), sync("b", "behind")], inSync: 1, known: 2, fraction: 0.5 },
    { followers: [sync("a", "behind"), sync("b", "in-sync")], inSync: 1, known: 2, fraction: 0.5 },
    {
      followers: [sync("a", "behind"), sync("b", "in-sync"), sync("c", "unknown")],
      inSync: 1,
      known: 2,
      fraction: 0.5,
    },
    { followers: [sync("a", "in-sync"), sync("b", "in-sync")], inSync: 2, known: 2, fraction: 1 },
  ];
  let pass = 0;
  const emitted: ConvergenceReport[] = [];
  const feed = new ConvergenceFeed({
    scheduler,
    everyMs: 100,
    capacity: 16,
    compute: () => passes[pass++] as ConvergenceReport,
    emit: (r) => emitted.push(r),
    presence: () => "online",
  });
  for (let i = 0; i < passes.length; i++) {
    feed.schedule();
    scheduler.advance(1000);
  }
  expect(emitted).toHaveLength(4);
  expect(feed.history().map((p) => [p.t, p.inSync])).toEqual([
    [0, 1],
    [3000, 2],
  ]);
});
