import mqtt from "mqtt";
import { pino } from "pino";
import { expect, it } from "vitest";
import { START_ID_TOPIC as BROKER_START_ID } from "../../broker/start-id.js";
import { FakeScheduler } from "../../node/scheduler.js";
import type { NodeId } from "../../protocol/index.js";
import { BrokerRestart, START_ID_TOPIC, UPTIME_TOPIC } from "../broker-restart.js";
import { startTwins, type Twins } from "../service.js";
import { cuttableProxy } from "./cuttable-proxy.js";
import { cleanupAfterEach, loggedLines } from "./own-broker.js";
import { when } from "./poll.js";
import { brokerOn, dataDir, nodeOn } from "./restart-rig.js";

const cleanup = cleanupAfterEach();
const quiet = pino({ level: "silent" });

it("uses the broker's own start-id topic", () => {
  expect(START_ID_TOPIC).toBe(BROKER_START_ID);
});

it("shows a node gone while the broker restarted on its store unheard, not online, until its will; a node heard again is online", async () => {
  const dir = await dataDir(cleanup, "twins-broker-restart-");
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
  const dir = await dataDir(cleanup, "twins-broker-restart-");
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
