// A run waiting for its ids to go offline, stopped (kill -STOP) with the broker on one host: the time it
// did not run is not time the ids stayed online. It used to refuse at `kill -CONT` (`stayed online for
// 23.5 s`) though the broker, stopped too, could not have published their wills meanwhile.
import { expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { afterRunning, StallWatch } from "../../node/stall-watch.js";
import { FleetIdsInUseError, offlineWaitMs, refuseIdsInUse } from "../ids-in-use.js";
import { ids, outcomeOf, presence, settle, where } from "./ids-wait-rig.js";

it("does not count a stall of the process as waiting, and boots when the wills come after it", async () => {
  const sched = new FakeScheduler(0);
  const stalls = new StallWatch(sched);
  const ids$ = presence();
  const waitMs = offlineWaitMs(15); // 23.5 s
  const outcome = outcomeOf(refuseIdsInUse(where, ids, ids$, waitMs, sched, () => {}, undefined, stalls));
  sched.advance(4_000);
  sched.jump(30_000); // kill -STOP for 30 s, then kill -CONT: every timer due runs at once
  await settle();
  expect(outcome()).toBe("waiting");
  // The broker, stopped with it, publishes the wills 10 s after it runs again.
  sched.advance(10_000);
  ids$.goOffline();
  await settle();
  expect(outcome()).toBe(true);
  expect(sched.pending).toBe(1); // the watch's own tick alone
});

it("still refuses ids that stay online for the wait's running time, a stall or not", async () => {
  const sched = new FakeScheduler(0);
  const stalls = new StallWatch(sched);
  const waitMs = offlineWaitMs(15);
  const outcome = outcomeOf(
    refuseIdsInUse(where, ids, presence(), waitMs, sched, () => {}, undefined, stalls),
  );
  sched.advance(4_000);
  sched.jump(30_000);
  sched.advance(19_000);
  await settle();
  expect(outcome()).toBe("waiting"); // 23 s of running time
  sched.advance(600);
  await settle();
  expect(outcome()).toBeInstanceOf(FleetIdsInUseError);
  expect((outcome() as Error).message).toContain("stayed online for 23.5 s");
});

it("runs on time with no stall, and tells the stall it left out", () => {
  const sched = new FakeScheduler(0);
  const stalls = new StallWatch(sched);
  const ran: number[] = [];
  const t = afterRunning(sched, 5_000, () => ran.push(sched.now()), stalls);
  sched.advance(5_000);
  expect(ran).toEqual([5_000]);
  expect(t.stalledMs()).toBe(0);
  const u = afterRunning(sched, 5_000, () => ran.push(sched.now()), stalls);
  sched.advance(1_000);
  sched.jump(20_000); // stopped from 6.25 s (the watch's last tick + its period) to 26 s
  expect(ran).toEqual([5_000]);
  expect(u.stalledMs()).toBe(19_750);
  sched.advance(4_000);
  expect(ran).toEqual([5_000, 29_750]);
});
