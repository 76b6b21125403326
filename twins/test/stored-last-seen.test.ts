/**
 * The last-seen dates a twins service stores (twins/stored-dates.ts): only a change of a desire
 * stored them, so a node heard for hours after its pairing last changed came back from a restart
 * last heard at that change. A node going offline stores its date, and so does the service's stop.
 */
import { afterEach, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { memoryStore } from "../store.js";
import { Fixtures, rawClient, until } from "./helpers.js";

const fx = new Fixtures();
afterEach(() => fx.close());

const EPOCH = 1_800_000_000_000;

it("stores the date a node was last heard when it goes offline, and every node's as the service stops", async () => {
  await fx.broker();
  const sched = new FakeScheduler(0, EPOCH);
  const store = memoryStore();
  const twins = await fx.twins({ store, scheduler: sched });
  const tool = fx.track(await rawClient(fx.url), (c) => c.endAsync());
  const heard = async (id: string, topic: string, payload: string, at: number) => {
    sched.advance(at - sched.now());
    await tool.publishAsync(`tf/${topic}/${id}`, payload, { qos: 1, retain: topic !== "register" });
  };
  // Two nodes come online and register (a first register is a change of the desire: stored then).
  for (const id of ["gone", "stays"]) {
    await heard(id, "status", "T1 1", 1_000);
    await heard(id, "register", "G1 real uno-w5100 1.0.0", 1_000);
  }
  await until(
    () => twins.get("gone")?.kind === "real" && twins.get("stays")?.kind === "real",
    "both registered",
  );
  await twins.flush();
  expect((await store.load()).nodes.gone?.lastSeen).toBe(EPOCH + 1_000);

  // An hour later each reports; then one leaves (its will).
  await heard("gone", "report", "R1 1 1 gone", 3_600_000);
  await heard("stays", "report", "R1 1 2 stays", 3_600_000);
  await until(() => twins.get("stays")?.lastSeen === 3_600_000, "the reports heard");
  await heard("gone", "status", "T1 0", 3_700_000);
  await until(() => twins.get("gone")?.presence === "offline", "gone offline");
  await twins.flush();
  expect((await store.load()).nodes.gone?.lastSeen).toBe(EPOCH + 3_600_000);

  // Heard again later, then the service stops (SIGTERM): the dates stored are the last ones.
  await heard("stays", "report", "R1 0 3 stays", 7_200_000);
  await until(() => twins.get("stays")?.lastSeen === 7_200_000, "the last report heard");
  await twins.close();
  const stored = (await store.load()).nodes;
  expect([stored.gone?.lastSeen, stored.stays?.lastSeen]).toEqual([EPOCH + 3_600_000, EPOCH + 7_200_000]);
});
