// Mosquitto restarted on its persistence keeps a clean-session node's retained `T1 1` and not its
// will: a node gone while it was down read online until the query's look took it offline 23.5 s
// after the service reconnected. The service now reads Mosquitto's uptime ($SYS/broker/uptime) at
// every connect, tells the restart, and shows such a node unheard from the reconnect on
// (twins/broker-restart.ts). A node that comes back reads online again: its live status, and its
// register answering the service's query when it came back before the service (its `T1 1` then
// reaches the service replayed, retained, as the kept one does).
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
import { startNode } from "./helpers.js";

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

it("shows a node gone while Mosquitto restarted on its persistence unheard, told by its uptime, and online once back", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "twinfleet-mosquitto-data-"));
  cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
  const first: Mosquitto = await startMosquitto({ dataDir, conf: ["sys_interval 1"] });
  const ghost = await nodeOn(first.url, "ghost");
  // A node that runs on through the restart and reconnects by itself (1 s), as the sim's do.
  const kept = await startNode(first.url, "kept");
  cleanup.push(() => kept.stop());
  // A node that loses power with the broker and is back before the service reconnects (its 5 s retry).
  const early = await startNode(first.url, "early");
  const twins: Twins = await startTwins({
    url: first.url,
    logger: pino({ level: "silent" }),
    probe: false,
    reconnectPeriodMs: 5_000,
  });
  cleanup.push(() => twins.close());
  const online = (...ids: string[]) => ids.every((id) => twins.get(id)?.presence === "online");
  await when(() => online("ghost", "kept", "early"));
  const restarts: (readonly NodeId[])[] = [];
  twins.on("broker-restarted", (nodes) => restarts.push(nodes));
  // A start later than the slack tells a restart: the first broker runs longer than that.
  await new Promise((r) => setTimeout(r, UPTIME_SLACK_MS + 3_000));
  await first.kill();
  ghost.stream.destroy();
  await early.powerOff();
  const second = await startMosquitto({ dataDir, port: first.port, conf: ["sys_interval 1"] });
  cleanup.unshift(() => second.close());
  // Its live `T1 1` reaches the service as the broker's replay (retained), like the kept one: it is
  // online by its register answering the service's query.
  const again = await startNode(second.url, "early");
  cleanup.push(() => again.stop());
  await when(() => restarts.length === 1);
  // `kept` is in the list when it reconnected after the service did.
  expect(restarts[0]).toContain("ghost");
  expect(restarts[0]).toContain("early");
  expect(twins.get("ghost")?.presence).toBe("unheard");
  // The node comes back (a protocol-exact node, same client id): online again.
  const back = await startNode(second.url, "ghost");
  cleanup.push(() => back.stop());
  await when(() => online("ghost", "kept", "early"));
}, 60_000);
