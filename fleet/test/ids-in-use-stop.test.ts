// A stop (Ctrl-C, SIGTERM) while a run waits for its ids in use to go offline ends the wait at once:
// it used to be answered only once the wait was over (23.5 s with the Uno's keepalive).
import { expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { NodeId } from "../../protocol/index.js";
import { FleetStartStoppedError, offlineWaitMs, type Presence, refuseIdsInUse } from "../ids-in-use.js";

const where = { url: "mqtt://lab:1883", prefix: "tf", fleet: 2 };
const ids = [NodeId("n-0000"), NodeId("n-0001")];
const allOnline: Presence = { online: () => true, watch: () => () => {} };

it("ends the wait when the stop comes, with nothing left to wait for", async () => {
  const scheduler = new FakeScheduler(0);
  const stop = new AbortController();
  const warned: string[] = [];
  const waited = refuseIdsInUse(
    where,
    ids,
    allOnline,
    offlineWaitMs(15),
    scheduler,
    (l) => warned.push(l),
    stop.signal,
  );
  let outcome: unknown = "waiting";
  waited.then(
    () => {
      outcome = "resolved";
    },
    (e: unknown) => {
      outcome = e;
    },
  );
  expect(warned).toHaveLength(1);
  scheduler.advance(1_000);
  stop.abort("SIGTERM");
  // No time passes: the stop alone ends it.
  for (let i = 0; i < 10; i++) await Promise.resolve();
  expect(outcome).toBeInstanceOf(FleetStartStoppedError);
  expect((outcome as FleetStartStoppedError).reason).toBe("SIGTERM");
  expect(scheduler.pending).toBe(0);
});

it("ends at once when the stop came before the wait began", async () => {
  const stop = new AbortController();
  stop.abort("SIGINT");
  const scheduler = new FakeScheduler(0);
  await expect(
    refuseIdsInUse(where, ids, allOnline, 23_500, scheduler, () => {}, stop.signal),
  ).rejects.toThrow("stopped while waiting for the fleet's ids to go offline: nothing ran");
});
