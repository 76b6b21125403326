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

/**
 * A probe's watch of the broker: `lost(at)` told 5 s after the last packet, `back()`; `heard()` a
 * packet now (a probe's echo). Never heard of, the watch tells no last packet.
 */
function probe(sched: FakeScheduler) {
  const events = Object.assign(new EventEmitter(), { lastHeardAt: undefined as number | undefined });
  const silences = new BrokerSilences(events, () => sched.now());
  return {
    silences,
    lost: (lastHeardMs: number) => events.emit("broker", false, lastHeardMs),
    back: () => {
      events.lastHeardAt = sched.now();
      events.emit("broker", true);
    },
    heard: () => {
      events.lastHeardAt = sched.now();
    },
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

/** `ms` of the broker answering: a probe's echo heard every 500 ms. */
function answering(sched: FakeScheduler, broker: { heard(): void }, ms: number): void {
  for (let t = 0; t < ms; t += 500) {
    sched.advance(500);
    broker.heard();
  }
}

// The probe tells a silence 5 s after the broker's last packet: a broker stopped 2.5 s before the
// wait's end was not yet told lost at it, and the run was refused with its silence counted.
it("holds a wait that ends as the broker falls silent until the probe decides, and leaves the silence out", async () => {
  const sched = new FakeScheduler(0);
  const broker = probe(sched);
  const waitMs = offlineWaitMs(15); // 23.5 s
  const ids$ = presence();
  const outcome = outcomeOf(
    refuseIdsInUse(where, ids, ids$, waitMs, sched, () => {}, undefined, undefined, broker.silences),
  );
  sched.advance(21_000);
  broker.heard(); // kill -STOP of the broker just after 21 s
  sched.advance(2_500); // the wait's end: silent 2.5 s, not told lost yet
  await settle();
  expect(outcome()).toBe("waiting");
  sched.advance(2_500);
  broker.lost(21_000); // told at 26 s
  sched.advance(14_000);
  broker.back(); // at 40 s: 21 s counted, 2.5 s to go
  answering(sched, broker, 2_000);
  await settle();
  expect(outcome()).toBe("waiting");
  answering(sched, broker, 500);
  await settle();
  expect((outcome() as Error).message).toContain(
    "stayed online for 23.5 s of the broker answering (19.0 s left out: the broker answered nothing for 19.0 s",
  );
});

it("refuses once the probe hears the broker again within its silence's 5 s, nothing left out", async () => {
  const sched = new FakeScheduler(0);
  const broker = probe(sched);
  const outcome = outcomeOf(
    refuseIdsInUse(where, ids, presence(), 23_500, sched, () => {}, undefined, undefined, broker.silences),
  );
  sched.advance(22_000);
  broker.heard(); // a 2 s pause of the broker over the wait's end
  sched.advance(1_500);
  await settle();
  expect(outcome()).toBe("waiting");
  // Answering again at 24 s, the probe's deadline (27.5 s) passing with no loss told.
  answering(sched, broker, 3_500);
  await settle();
  expect(outcome()).toBe("waiting");
  sched.advance(500);
  await settle();
  expect((outcome() as Error).message).toContain("stayed online for 23.5 s: another fleet");
});
