/**
 * A shard's watch client reads the fleet's registers off the broker; one cut off with the shard's
 * nodes and back after them (a real partition healed while its next attempt waited on its SYN) had
 * missed their registers, and the shard reported the outage "recovered after never, re-registered
 * max never" for 40 nodes all registered again in the fleet. It now queries after each reconnect.
 * A register the broker replays for its subscription (kept by a broker that keeps one published
 * with the retain flag) is not a node registering.
 */
import mqtt from "mqtt";
import { afterEach, expect, it } from "vitest";
import { RealScheduler } from "../../node/scheduler.js";
import { Prefix } from "../../protocol/index.js";
import { cuttableProxy } from "../../twins/test/cuttable-proxy.js";
import { Fixtures } from "../../twins/test/helpers.js";
import { FleetWatch } from "../shard-watch.js";

let fx = new Fixtures();
afterEach(async () => {
  await fx.close();
  fx = new Fixtures();
});

it("queries when its link comes back, and hears the nodes that synced while it was away register", async () => {
  const broker = await fx.broker();
  const proxy = fx.track(await cuttableProxy(broker.port), (p) => p.close());
  // The watch client's options but its reconnect period (connectWatchClient: 200 ms).
  const client = await mqtt.connectAsync(proxy.url, { clean: true, reconnectPeriod: 50, keepalive: 15 });
  fx.track(client, (c) => c.endAsync(true));
  const watch = await FleetWatch.open(client, Prefix("tf"), new RealScheduler());
  const registered: string[] = [];
  watch.registry.on("registered", (e) => registered.push(e.id));
  let connects = 0;
  client.on("connect", () => {
    connects += 1;
  });
  const a = await fx.node("A");
  await expect.poll(() => registered).toEqual(["A"]);
  proxy.cut();
  await expect.poll(() => client.connected).toBe(false);
  // A's link drops and comes back while the watch is away: it registers unheard.
  await a.stop();
  await fx.node("A");
  proxy.heal();
  await expect.poll(() => connects).toBe(1);
  await expect.poll(() => registered, { timeout: 5000 }).toEqual(["A", "A"]);
});

it("takes no register the broker replays for its subscription: a register is never retained", async () => {
  const broker = await fx.broker();
  const client = await mqtt.connectAsync(broker.url, { clean: true, reconnectPeriod: 50, keepalive: 15 });
  fx.track(client, (c) => c.endAsync(true));
  const watch = await FleetWatch.open(client, Prefix("tf"), new RealScheduler());
  const registered: string[] = [];
  watch.registry.on("registered", (e) => registered.push(e.id));
  // What a broker that keeps a register published with the retain flag (Mosquitto) replays.
  const replayed = { cmd: "publish", topic: "tf/register/ghost", retain: true } as mqtt.IPublishPacket;
  client.emit("message", "tf/register/ghost", Buffer.from("G1 real uno-w5100 1.0"), replayed);
  expect(watch.registry.get("ghost")).toBeUndefined();
  await fx.node("A");
  await expect.poll(() => registered).toEqual(["A"]);
});
