// A run waiting for its ids to go offline while the broker alone stops answering (kill -STOP of the
// broker, a hung broker host): the time the broker is silent is no time the ids stayed online, as it
// could publish no will meanwhile. It used to refuse the run (`stayed online for 23.5 s`) with the
// broker stopped for 30 s of the wait, and said nothing of it.
import { EventEmitter } from "node:events";
import { expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { StallWatch } from "../../node/stall-watch.js";
import { BrokerSilences, FleetIdsInUseError, offlineWaitMs, refuseIdsInUse } from "../ids-in-use.js";
import { ids, outcomeOf, presence, settle, where } from "./ids-wait-rig.js";

/** A probe's watch of the broker: `lost(at)` told 5 s after the last packet, `back()`. */
function probe(sched: FakeScheduler) {
  const events = new EventEmitter();
  const silences = new BrokerSilences(events, () => sched.now());
  return {
    silences,
    lost: (lastHeardMs: number) => events.emit("broker", false, lastHeardMs),
    back: () => events.emit("broker", true),
  };
}

it("does not count the broker's silence as waiting, and boots when the wills come after it", async () => {
  const sched = new FakeScheduler(0);
  const stalls = new StallWatch(sched);
  const broker = probe(sched);
  const ids$ = presence();
  const waitMs = offlineWaitMs(15); // 23.5 s
  const outcome = outcomeOf(
    refuseIdsInUse(where, ids, ids$, waitMs, sched, () => {}, undefined, stalls, broker.silences),
  );
  sched.advance(1_000); // kill -STOP of the broker: last heard at 1 s, told lost at 6 s
  sched.advance(5_000);
  broker.lost(1_000);
  sched.advance(25_000); // kill -CONT 30 s after the stop
  broker.back();
  await settle();
  expect(outcome()).toBe("waiting");
  // The broker publishes the wills 10 s after it answers again.
  sched.advance(10_000);
  ids$.goOffline();
  await settle();
  expect(outcome()).toBe(true);
});

it("still refuses ids that stay online for the broker's answering time, and says what it left out", async () => {
  const sched = new FakeScheduler(0);
  const stalls = new StallWatch(sched);
  const broker = probe(sched);
  const waitMs = offlineWaitMs(15);
  const outcome = outcomeOf(
    refuseIdsInUse(where, ids, presence(), waitMs, sched, () => {}, undefined, stalls, broker.silences),
  );
  sched.advance(6_000);
  broker.lost(1_000);
  sched.advance(25_000);
  broker.back(); // 30 s silent
  sched.advance(18_000);
  await settle();
  expect(outcome()).toBe("waiting"); // 1 + 18 = 19 s of the broker answering
  sched.advance(4_600);
  await settle();
  expect(outcome()).toBeInstanceOf(FleetIdsInUseError);
  expect((outcome() as Error).message).toContain(
    "stayed online for 23.5 s of the broker answering (30.0 s left out: the broker answered nothing for 30.0 s and could publish no will)",
  );
});

it("holds the wait's end while the broker is silent, and counts on once it answers", async () => {
  const sched = new FakeScheduler(0);
  const broker = probe(sched);
  const waitMs = offlineWaitMs(15);
  const outcome = outcomeOf(
    refuseIdsInUse(where, ids, presence(), waitMs, sched, () => {}, undefined, undefined, broker.silences),
  );
  sched.advance(20_000);
  broker.lost(15_000); // silent from 15 s, on past the wait's 23.5 s
  sched.advance(40_000);
  await settle();
  expect(outcome()).toBe("waiting");
  broker.back(); // at 60 s: 15 s counted, 8.5 s to go
  sched.advance(8_400);
  await settle();
  expect(outcome()).toBe("waiting");
  sched.advance(200);
  await settle();
  expect((outcome() as Error).message).toContain("(45.0 s left out: the broker answered nothing for 45.0 s");
});

it("says nothing was left out when nothing was", async () => {
  const sched = new FakeScheduler(0);
  const broker = probe(sched);
  const outcome = outcomeOf(
    refuseIdsInUse(where, ids, presence(), 23_500, sched, () => {}, undefined, undefined, broker.silences),
  );
  sched.advance(23_500);
  await settle();
  expect((outcome() as Error).message).toContain("stayed online for 23.5 s: another fleet");
});
