/**
 * A passive twins service (a fleet run's observer beside the fleet's controller) that loses its
 * connection misses the registers the nodes send while it is away: a node that synced again in that
 * time (its own link back sooner) was never heard registering, and a run's fault analysis reported it
 * never back ("recovered after never") although it was. With `queryOnReconnect` the observer queries
 * each time its connection comes back, and hears every live node register again. The observer's link
 * passes through a proxy that can be cut (twins/test/cuttable-proxy.ts).
 */
import { afterEach, expect, it } from "vitest";
import { cuttableProxy } from "./cuttable-proxy.js";
import type { TestBroker } from "./helpers.js";
import { changed, Fixtures, rawClient, until } from "./helpers.js";

let fx = new Fixtures();
afterEach(async () => {
  await fx.close();
  fx = new Fixtures();
});

async function observerBehindProxy(broker: TestBroker, queryOnReconnect: boolean) {
  const proxy = fx.track(await cuttableProxy(broker.port), (p) => p.close());
  fx.url = proxy.url;
  const watcher = await fx.twins({ passive: true, queryOnReconnect, reconnectPeriodMs: 50 });
  fx.url = broker.url;
  const registered: string[] = [];
  watcher.on("twin-registered", (t) => registered.push(t.id));
  const back: boolean[] = [];
  watcher.on("broker", (up) => {
    back.push(up);
    changed();
  });
  return { proxy, watcher, registered, back };
}

it("queries when its connection comes back, and hears the nodes that synced while it was away register", async () => {
  const broker = await fx.broker();
  await fx.twins(); // the fleet's controller, which queries as it connects
  const raw = fx.track(await rawClient(broker.url), (c) => c.endAsync());
  const queries: string[] = [];
  raw.on("message", (topic) => {
    queries.push(topic);
    changed();
  });
  await raw.subscribeAsync("tf/query", { qos: 1 });
  const { proxy, watcher, registered, back } = await observerBehindProxy(broker, true);
  const a = await fx.node("A");
  await until(() => registered.includes("A") && watcher.get("A")?.presence === "online", "A registered");
  expect(queries).toEqual([]); // none at its first connect
  proxy.cut();
  await until(() => back.includes(false), "the observer lost its link");
  // A's link drops and comes back while the observer is away: it registers, unheard by the observer.
  await a.stop();
  await fx.node("A");
  const before = registered.length;
  proxy.heal();
  await until(() => back.at(-1) === true, "the observer back");
  await until(() => registered.length > before, "A heard registering again");
  expect(registered.slice(before)).toEqual(["A"]);
  expect(watcher.get("A")?.presence).toBe("online");
  await until(() => queries.length > 0, "the observer's query seen");
  expect(queries).toEqual(["tf/query"]);
});
