/**
 * A report that comes before a config on its path, while the broker's replay after the subscription
 * is under way, is judged once the replay is over, not at once as spoofed (twins/origin-wait.ts).
 * Real sockets to a broker on port 0; the service's clock is a FakeScheduler, so the replay is over
 * exactly when the test says.
 */
import { pino } from "pino";
import { afterEach, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { REPLAY_SETTLE_MS } from "../replay-end.js";
import { Fixtures, rawClient, until } from "./helpers.js";

const fx = new Fixtures();
afterEach(() => fx.close());

/**
 * A ring, n-0001 following n-0002 and n-0002 following n-0003, of which the broker holds n-0001's
 * config; the service started on it. Then a report on n-0001 carrying `stamp`, and n-0002's config
 * after it: the report comes while the replay is not over (the fake clock has not moved).
 */
async function reportBeforeItsPath(stamp: string) {
  await fx.broker();
  const raw = fx.track(await rawClient(fx.url), (r) => r.endAsync());
  const scheduler = new FakeScheduler(0);
  const warned: { reason?: string; msg: string }[] = [];
  const logger = pino({ level: "warn" }, { write: (l: string) => void warned.push(JSON.parse(l)) });
  await raw.publishAsync("tf/config/n-0001", "C1 1 n-0002", { qos: 1, retain: true });
  const t = await fx.twins({ scheduler, logger });
  await until(() => t.get("n-0001")?.follows?.[0] === "n-0002", "n-0001's config replayed");
  await raw.publishAsync("tf/report/n-0001", `R1 1 ${stamp}`, { qos: 1 });
  await raw.publishAsync("tf/config/n-0002", "C1 1 n-0003", { qos: 1, retain: true });
  await until(() => t.get("n-0002")?.follows?.[0] === "n-0003", "n-0002's config");
  // The replay's end is the service's marker back, then the quiet time: the marker and these publishes
  // come from different clients, in no set order, so the clock moves only once the marker is back.
  await until(() => t.replayMarkerBack?.() === true, "the service's replay marker back");
  const bad = () => warned.filter((l) => l.reason !== undefined);
  return { t, scheduler, bad };
}

it("believes a report whose path's config came after it, once the replay is over", async () => {
  // n-0001's report carries n-0003's press; n-0002's config, which explains it, comes after it.
  const { t, scheduler, bad } = await reportBeforeItsPath("12 n-0003");
  expect(t.get("n-0001")?.reported).toBeUndefined(); // held: the replay is not over
  scheduler.advance(REPLAY_SETTLE_MS);
  expect(t.get("n-0001")?.reported).toMatchObject({ on: true, stamp: { counter: 12, origin: "n-0003" } });
  expect(bad()).toEqual([]);
  expect(t.badInput()).toMatchObject({ total: 0 });
});

it("still tells a report no config the broker holds explains, once the replay is over", async () => {
  const { t, scheduler, bad } = await reportBeforeItsPath("12 n-0009");
  expect(bad()).toEqual([]);
  scheduler.advance(REPLAY_SETTLE_MS);
  expect(bad().map((l) => [l.reason, l.msg])).toEqual([
    ["spoofed-origin", "twins: bad input: stamp 12@n-0009: n-0009 is neither n-0001 nor upstream of it"],
  ]);
  // Shown, flagged: the twin had no state.
  expect(t.get("n-0001")?.reported).toMatchObject({ stamp: { counter: 12, origin: "n-0009" } });
});
