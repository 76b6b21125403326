/**
 * The convergence series marks where no follower was online (twins/convergence-feed.ts): a fleet
 * that goes offline keeps every follower's last-heard status, so the series used to get no point at
 * all, and a chart of it ran on at the last-heard 100 %.
 */
import { describe, expect, it, vi } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { NodeId, Prefix } from "../../protocol/index.js";
import type { ConvergenceReport, FollowerSync } from "../convergence.js";
import { ConvergenceFeed, fleetFeed } from "../convergence-feed.js";
import { TwinRegistry } from "../registry.js";

const report: ConvergenceReport = {
  followers: [
    { id: NodeId("a"), status: "in-sync", stamp: undefined, target: undefined, waitingOn: [] },
    { id: NodeId("b"), status: "in-sync", stamp: undefined, target: undefined, waitingOn: [] },
  ],
  inSync: 2,
  known: 2,
  fraction: 1,
};

it("adds a point when the last follower online goes, and when one returns, with how many were online", () => {
  const scheduler = new FakeScheduler(0);
  const online = new Set<string>(["a", "b"]);
  const emitted: ConvergenceReport[] = [];
  const feed = new ConvergenceFeed({
    scheduler,
    everyMs: 100,
    capacity: 16,
    compute: () => report,
    emit: (r) => emitted.push(r),
    online: (id) => online.has(id),
  });
  feed.schedule();
  scheduler.advance(1000);
  online.delete("a");
  feed.schedule();
  scheduler.advance(1000);
  online.delete("b");
  feed.schedule();
  scheduler.advance(1000);
  online.add("b");
  feed.schedule();
  scheduler.advance(1000);
  expect(feed.history().map((p) => [p.t, p.online])).toEqual([
    [0, 2],
    [2000, 0],
    [3000, 1],
  ]);
  expect(emitted).toHaveLength(3);
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
    // One point when the first pass found them, none while nothing changed; the feed's only points.
    expect(feed.history().map((p) => p.online)).toEqual([40]);
    expect(emitted).toBe(1);
  });
});

it("asks one follower's presence on a pass that adds no point, every follower's on one that does", () => {
  const scheduler = new FakeScheduler(0);
  let asked = 0;
  const feed = new ConvergenceFeed({
    scheduler,
    everyMs: 100,
    capacity: 16,
    compute: () => report,
    emit: () => {},
    online: () => {
      asked++;
      return true;
    },
  });
  feed.schedule();
  scheduler.advance(1000);
  expect(asked).toBe(1 + 2); // is any online, then how many
  for (let pass = 0; pass < 5; pass++) {
    feed.schedule();
    scheduler.advance(1000);
  }
  expect(asked).toBe(3 + 5);
  expect(feed.history().map((p) => p.online)).toEqual([2]);
});
