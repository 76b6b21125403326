/**
 * A broker restarted on its store replays each node's retained `T1 1` as it kept it, with no session
 * of the node behind it: a node gone while the broker was down read online (the service, the view,
 * `/metrics`) until the broker published its will 20 s later. Now the service tells the restart by
 * the broker's start id (broker/start-id.ts) and shows such a node `unheard` until it is heard
 * (online) or its will comes (offline); a connection that only dropped, the broker running on, tells
 * no restart. Real sockets, the twinfleet broker on port 0 with a data directory.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MqttClient } from "mqtt";
import mqtt from "mqtt";
import { pino } from "pino";
import { expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../../broker/index.js";
import { START_ID_TOPIC as BROKER_START_ID } from "../../broker/start-id.js";
import { FakeScheduler } from "../../node/scheduler.js";
import type { NodeId } from "../../protocol/index.js";
import { BrokerRestart, START_ID_TOPIC, UPTIME_TOPIC } from "../broker-restart.js";
import { startTwins, type Twins } from "../service.js";
import { cuttableProxy } from "./cuttable-proxy.js";
import { cleanupAfterEach, loggedLines } from "./own-broker.js";
import { when } from "./poll.js";

const cleanup = cleanupAfterEach();
const quiet = pino({ level: "silent" });

/** A node as the firmware connects: its will `T1 0`, then its `T1 1`, both retained. */
async function nodeOn(url: string, id: string): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, {
    clientId: `node-${id}`,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
    will: { topic: `tf/status/${id}`, payload: Buffer.from("T1 0"), qos: 1, retain: true },
  });
  await c.publishAsync(`tf/status/${id}`, "T1 1", { qos: 1, retain: true });
  return c;
}

/** A broker on `dir` (on `port` when given), its previous run's wills held back for the test's length. */
async function brokerOn(dir: string, port = 0): Promise<RunningBroker> {
  return startBroker({ host: "127.0.0.1", port, dataDir: dir, logger: quiet, staleWillGraceMs: 600_000 });
}

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "twins-broker-restart-"));
  cleanup.unshift(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

it("uses the broker's own start-id topic", () => {
  expect(START_ID_TOPIC).toBe(BROKER_START_ID);
});

it("shows a node gone while the broker restarted on its store unheard, not online, until its will; a node heard again is online", async () => {
  const dir = await dataDir();
  const first = await brokerOn(dir);
  const alive = await nodeOn(first.url, "alive");
  const ghost = await nodeOn(first.url, "ghost");
  const { logger, lines } = loggedLines("info");
  const twins: Twins = await startTwins({ url: first.url, logger, probe: false, reconnectPeriodMs: 200 });
  cleanup.push(() => twins.close());
  await when(() => twins.get("alive")?.presence === "online" && twins.get("ghost")?.presence === "online");
  const restarts: (readonly NodeId[])[] = [];
  twins.on("broker-restarted", (nodes) => restarts.push(nodes));

  // The power goes: the broker dies (no will published) and both nodes with it.
  await first.kill();
  alive.stream.destroy();
  ghost.stream.destroy();
  const second = await brokerOn(dir, first.port);
  cleanup.unshift(() => second.close());
  await when(() => restarts.length === 1);
  // Only the broker's kept `T1 1` says online: neither is counted online.
  expect(restarts[0]).toEqual(["alive", "ghost"]);
  expect(twins.get("ghost")?.presence).toBe("unheard");
  expect(twins.get("alive")?.presence).toBe("unheard");
  expect(twins.list().filter((t) => t.presence === "online")).toEqual([]);
  expect(lines.some((l) => l.msg.startsWith("twins: the broker at") && l.msg.includes("restarted"))).toBe(
    true,
  );

  // One node comes back: online as soon as it is heard; the other stays unheard.
  const back = await nodeOn(second.url, "alive");
  cleanup.push(() => back.endAsync(true));
  await when(() => twins.get("alive")?.presence === "online");
  expect(twins.get("ghost")?.presence).toBe("unheard");
  // The broker publishes the gone node's will: offline.
  const will = await mqtt.connectAsync(second.url, { protocolVersion: 4, reconnectPeriod: 0 });
  await will.publishAsync("tf/status/ghost", "T1 0", { qos: 1, retain: true });
  await will.endAsync();
  await when(() => twins.get("ghost")?.presence === "offline");
  expect(restarts).toHaveLength(1);
});

it("tells no restart when only the service's connection dropped and the broker ran on", async () => {
  const dir = await dataDir();
  const broker = await brokerOn(dir);
  cleanup.unshift(() => broker.close());
  const node = await nodeOn(broker.url, "n-1");
  cleanup.push(() => node.endAsync(true));
  const proxy = await cuttableProxy(broker.port);
  cleanup.unshift(() => proxy.close());
  const twins: Twins = await startTwins({
    url: proxy.url,
    logger: quiet,
    probe: false,
    reconnectPeriodMs: 200,
  });
  cleanup.push(() => twins.close());
  await when(() => twins.get("n-1")?.presence === "online");
  const restarts: (readonly NodeId[])[] = [];
  twins.on("broker-restarted", (nodes) => restarts.push(nodes));
  let back = false;
  twins.on("broker", (up) => {
    if (up) back = true;
  });
  proxy.cut();
  proxy.heal("twins");
  await when(() => back);
  // The replay is over (a marker's round trip after it): the start id, replayed first, was read.
  expect(await twins.replayOver?.(10_000)).toBe(true);
  expect(restarts).toEqual([]);
  expect(twins.get("n-1")?.presence).toBe("online");
});

it("tells a Mosquitto restarted by its uptime, late by up to its sys_interval, and not a connection that only dropped", () => {
  const sched = new FakeScheduler(1_000_000);
  const told: [number, string][] = [];
  const restart = new BrokerRestart(sched, (since, how) => told.push([since, how]));
  const uptime = (s: number) => restart.message(UPTIME_TOPIC, Buffer.from(`${s} seconds`));
  restart.connected();
  expect(uptime(100)).toBe(true); // the retained copy, up to 10 s old: the broker started 90-100 s ago
  sched.advance(60_000);
  uptime(160); // a live one while connected
  sched.advance(5_000);
  restart.connected(); // only the connection dropped: the retained copy is 9 s old
  uptime(156);
  expect(told).toEqual([]);
  sched.advance(30_000);
  restart.connected(); // the broker restarted 3 s ago
  const since = sched.now();
  uptime(3);
  expect(told).toEqual([[since, "its uptime ($SYS/broker/uptime) is 3 s"]]);
  uptime(3); // told once a connection
  expect(told).toHaveLength(1);
  expect(restart.message("tf/status/n-1", Buffer.from("T1 1"))).toBe(false);
});
