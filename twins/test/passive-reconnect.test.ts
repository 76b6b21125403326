/**
 * A passive twins service (a fleet run's observer beside the fleet's controller) that loses its
 * connection misses the registers the nodes send while it is away: a node that synced again in that
 * time (its own link back sooner) was never heard registering, and a run's fault analysis reported it
 * never back ("recovered after never") although it was. With `queryOnReconnect` the observer queries
 * each time its connection comes back, and hears every live node register again. The observer's link
 * passes through a proxy that can be cut (its sockets closed and new ones refused).
 */
import { type AddressInfo, connect, createServer, type Socket } from "node:net";
import { afterEach, expect, it } from "vitest";
import type { TestBroker } from "./helpers.js";
import { changed, Fixtures, rawClient, until } from "./helpers.js";

let fx = new Fixtures();
afterEach(async () => {
  await fx.close();
  fx = new Fixtures();
});

/** A TCP proxy to `port` whose links can be cut (closed, and new ones closed at once) and healed. */
async function cuttableProxy(port: number) {
  const open = new Set<Socket>();
  let cut = false;
  const server = createServer((client) => {
    if (cut) {
      client.destroy();
      return;
    }
    const upstream = connect(port, "127.0.0.1");
    for (const s of [client, upstream]) {
      open.add(s);
      s.on("error", () => {});
      s.on("close", () => open.delete(s));
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cut: () => {
      cut = true;
      for (const s of open) s.destroy();
    },
    heal: () => {
      cut = false;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

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
