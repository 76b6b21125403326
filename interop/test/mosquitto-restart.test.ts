// Mosquitto restarted on its persistence keeps a clean-session node's retained `T1 1` and not its
// will: a node gone while it was down read online until the query's look took it offline 23.5 s
// after the service reconnected. The service now reads Mosquitto's uptime ($SYS/broker/uptime) at
// every connect, tells the restart, and shows such a node unheard from the reconnect on
// (twins/broker-restart.ts).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { pino } from "pino";
import { afterEach, expect, it } from "vitest";
import type { NodeId } from "../../protocol/index.js";
import { UPTIME_SLACK_MS } from "../../twins/broker-restart.js";
import { startTwins, type Twins } from "../../twins/index.js";
import { type Mosquitto, startMosquitto } from "../mosquitto.js";

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function when(cond: () => boolean, timeout = 15_000): Promise<void> {
  return expect.poll(cond, { timeout, interval: 20 }).toBe(true) as unknown as Promise<void>;
}

async function nodeOn(url: string, id: string): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, {
    clientId: `node-${id}`,
    protocolVersion: 4,
    reconnectPeriod: 0,
    will: { topic: `tf/status/${id}`, payload: Buffer.from("T1 0"), qos: 1, retain: true },
  });
  await c.publishAsync(`tf/status/${id}`, "T1 1", { qos: 1, retain: true });
  return c;
}

it("shows a node gone while Mosquitto restarted on its persistence unheard, told by its uptime", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "twinfleet-mosquitto-data-"));
  cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
  const first: Mosquitto = await startMosquitto({ dataDir, conf: ["sys_interval 1"] });
  const ghost = await nodeOn(first.url, "ghost");
  const twins: Twins = await startTwins({
    url: first.url,
    logger: pino({ level: "silent" }),
    probe: false,
    reconnectPeriodMs: 200,
  });
  cleanup.push(() => twins.close());
  await when(() => twins.get("ghost")?.presence === "online");
  const restarts: (readonly NodeId[])[] = [];
  twins.on("broker-restarted", (nodes) => restarts.push(nodes));
  // A start later than the slack tells a restart: the first broker runs longer than that.
  await new Promise((r) => setTimeout(r, UPTIME_SLACK_MS + 3_000));
  await first.kill();
  ghost.stream.destroy();
  const second = await startMosquitto({ dataDir, port: first.port, conf: ["sys_interval 1"] });
  cleanup.unshift(() => second.close());
  await when(() => restarts.length === 1);
  expect(restarts[0]).toEqual(["ghost"]);
  expect(twins.get("ghost")?.presence).toBe("unheard");
}, 60_000);
