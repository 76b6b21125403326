/**
 * The convergence series marks where no follower was online (twins/convergence-feed.ts): a fleet
 * that goes offline keeps every follower's last-heard status, so the series used to get no point at
 * all, and a chart of it ran on at the last-heard 100 %.
 */
import { expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { NodeId } from "../../protocol/index.js";
import type { ConvergenceReport } from "../convergence.js";
import { ConvergenceFeed } from "../convergence-feed.js";

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
