/**
 * The broker's retained copies, replayed as the twins service subscribes — at its start beside a
 * live fleet, and again when its link comes back — are no deliveries: the sync latency the twins time
 * (the `/metrics` histogram, twinsFigures; `/api/latency` and the console, TwinsSource) leaves them
 * out, and times the next real press as before; so are the nodes' answers to the service's query,
 * which can come before the broker's copies. The service tells them apart (the MQTT retain flag, or
 * a node's first report since it subscribed) on its `twin-updated` event. A real broker on port 0;
 * the service's link to it through a proxy that can be cut (twins/test/cuttable-proxy.ts).
 */
import { afterEach, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { startTwins, type Twins, type TwinsOptions } from "../../twins/index.js";
import { cuttableProxy } from "../../twins/test/cuttable-proxy.js";
import { changed, Fixtures, rawClient, until, watchTwins } from "../../twins/test/helpers.js";
import { twinsFigures } from "../figures.js";
import { TwinsSource } from "../twins-source.js";

let fx = new Fixtures();
afterEach(async () => {
  await fx.close();
  fx = new Fixtures();
});

/** A passive service on `fx.url`, and what reads its timing, listening before it connects (as a monitor's). */
async function watched(options: Omit<TwinsOptions, "url"> = {}) {
  let r: ReturnType<typeof readers> | undefined;
  const t = await startTwins({ url: fx.url, passive: true, ...options }, (s) => {
    r = readers(s);
  });
  fx.track(watchTwins(t), (s) => s.close());
  if (r === undefined) throw new Error("no service made");
  return { t, r };
}

/** What reads the timing: the latencies for `/metrics` (all held so far) and `/api/latency`'s count. */
function readers(t: Twins) {
  const figures = twinsFigures(t, () => 0);
  const source = fx.track(new TwinsSource(t, "mqtt://x", new FakeScheduler(0)), async (s) => s.close());
  const held: number[] = [];
  const reports: [string, boolean | undefined][] = [];
  t.on("twin-updated", (tw, change, replayed) => {
    if (change === "report") reports.push([tw.id, replayed]);
  });
  return {
    reports,
    metrics: () => {
      held.push(...(figures.latencySince?.() ?? []));
      return held.length;
    },
    api: () => source.latency().count,
  };
}

/** b follows a; both hold a's press `counter`, retained, as the fleet left them. */
async function quietFleet(raw: Awaited<ReturnType<typeof rawClient>>, counter: number): Promise<void> {
  await raw.publishAsync("tf/config/b", "C1 1 a", { qos: 1, retain: true });
  await raw.publishAsync("tf/report/a", `R1 1 ${counter} a`, { qos: 1, retain: true });
  await raw.publishAsync("tf/report/b", `R1 1 ${counter} a`, { qos: 1, retain: true });
}

/** A press at a and its delivery to b, live. */
async function press(raw: Awaited<ReturnType<typeof rawClient>>, t: Twins, counter: number): Promise<void> {
  await raw.publishAsync("tf/report/a", `R1 0 ${counter} a`, { qos: 1, retain: true });
  await until(() => t.get("a")?.reported?.stamp.counter === counter, `a's press ${counter}`);
  await raw.publishAsync("tf/report/b", `R1 0 ${counter} a`, { qos: 1, retain: true });
  await until(() => t.get("b")?.reported?.stamp.counter === counter, `b's delivery of ${counter}`);
}

it("times no report replayed at the service's start, and the next press as before", async () => {
  const broker = await fx.broker();
  const raw = fx.track(await rawClient(broker.url), (r) => r.endAsync());
  await quietFleet(raw, 4);
  const { t, r } = await watched();
  await until(() => t.get("b")?.reported?.stamp.counter === 4, "b's report replayed");
  expect(r.reports).toEqual([
    ["a", true],
    ["b", true],
  ]);
  expect([r.metrics(), r.api()]).toEqual([0, 0]);
  await press(raw, t, 5);
  expect(r.reports.slice(2)).toEqual([
    ["a", false],
    ["b", false],
  ]);
  expect([r.metrics(), r.api()]).toEqual([1, 1]);
});

it("times none replayed when its link comes back, the presses made while it was away among them", async () => {
  const broker = await fx.broker();
  const raw = fx.track(await rawClient(broker.url), (r) => r.endAsync());
  const proxy = fx.track(await cuttableProxy(broker.port), (p) => p.close());
  fx.url = proxy.url;
  const { t, r } = await watched({ reconnectPeriodMs: 50 });
  const up: boolean[] = [];
  t.on("broker", (connected) => {
    up.push(connected);
    changed();
  });
  await quietFleet(raw, 1);
  await until(() => t.get("b")?.reported?.stamp.counter === 1, "b's report");
  const live = r.metrics();
  proxy.cut();
  await until(() => up.includes(false), "the service's link cut");
  await quietFleet(raw, 2); // a press and its delivery while the service was away
  proxy.heal();
  await until(() => t.get("b")?.reported?.stamp.counter === 2, "b's report replayed");
  expect(r.reports.slice(-2)).toEqual([
    ["a", true],
    ["b", true],
  ]);
  expect(r.metrics()).toBe(live);
  await press(raw, t, 3);
  expect(r.metrics()).toBe(live + 1);
});

it("times none of the nodes' answers to its query that come before the broker's copies", async () => {
  const broker = await fx.broker();
  const raw = fx.track(await rawClient(broker.url), (r) => r.endAsync());
  await raw.publishAsync("tf/config/b", "C1 1 a", { qos: 1, retain: true });
  // The broker holds no report of a or b yet (its copies come later): a and b answer the query.
  raw.on("message", (topic) => {
    if (topic !== "tf/query") return;
    void raw.publishAsync("tf/report/a", "R1 1 4 a", { qos: 1 });
    void raw.publishAsync("tf/report/b", "R1 1 4 a", { qos: 1 });
  });
  await raw.subscribeAsync("tf/query", { qos: 1 });
  const { t, r } = await watched({ passive: false });
  await until(() => t.get("b")?.reported?.stamp.counter === 4, "b's answer");
  expect([r.metrics(), r.api()]).toEqual([0, 0]);
  expect(r.reports).toEqual([
    ["a", true],
    ["b", true],
  ]);
  await press(raw, t, 5);
  expect([r.metrics(), r.api()]).toEqual([1, 1]);
});
