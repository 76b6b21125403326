/**
 * The last-seen dates a twins service stores (twins/stored-dates.ts): only a change of a desire
 * stored them, so a node heard for hours after its pairing last changed came back from a restart
 * last heard at that change. A node going offline stores its date, and so does the service's stop;
 * and each minute the dates of the nodes heard in it, for a service that never stops (kill -9, a
 * power cut): its live nodes came back last heard at their last desire's change.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { DATES_EVERY_MS } from "../desire-saver.js";
import { jsonFileStore, memoryStore } from "../store.js";
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

it("stores each minute the dates of the nodes heard in it, so a service killed without a goodbye leaves them a minute behind at most", async () => {
  await fx.broker();
  const dir = await mkdtemp(join(tmpdir(), "twins-dates-"));
  fx.track(dir, (d) => rm(d, { recursive: true, force: true }));
  const sched = new FakeScheduler(0, EPOCH);
  const twins = await fx.twins({ store: await jsonFileStore(dir), scheduler: sched });
  const tool = fx.track(await rawClient(fx.url), (c) => c.endAsync());
  const heard = async (topic: string, payload: string, at: number) => {
    sched.advance(at - sched.now());
    await tool.publishAsync(`tf/${topic}/live`, payload, { qos: 1, retain: topic !== "register" });
  };
  await heard("status", "T1 1", 1_000);
  await heard("register", "G1 real uno-w5100 1.0.0", 1_000);
  await until(() => twins.get("live")?.kind === "real", "registered (stored, with its date)");
  await twins.flush();
  // Heard an hour later, online all along; the minute's look stores its date.
  await heard("report", "R1 1 1 live", 3_600_000);
  await until(() => twins.get("live")?.lastSeen === 3_600_000, "the report heard");
  sched.advance(DATES_EVERY_MS);
  await twins.flush();
  // The power goes: no goodbye, no last save.
  await twins.kill();
  const stored = await (await jsonFileStore(dir)).load();
  expect(stored.nodes.live?.lastSeen).toBe(EPOCH + 3_600_000);
});
