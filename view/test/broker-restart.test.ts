/**
 * The fleet view over a twins service whose broker restarted on its store: the nodes online only by
 * the status the broker kept are not counted online (the list, `/metrics`' nodes_online), nor as
 * followers online for convergence (where they are counted `unheard`, not offline); they are flagged
 * `unheard`, the detail says so, and the event
 * log has one line for all of them, not one a node. Real sockets: the twinfleet broker on port 0.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { pino } from "pino";
import { afterEach, expect, it } from "vitest";
import { startBroker } from "../../broker/index.js";
import type { NodeId } from "../../protocol/index.js";
import { startTwins, type Twins } from "../../twins/index.js";
import { TwinsSource } from "../twins-source.js";

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});
const quiet = pino({ level: "silent" });

function when(cond: () => boolean): Promise<void> {
  return expect.poll(cond, { timeout: 10_000, interval: 5 }).toBe(true) as unknown as Promise<void>;
}

/** A node as the firmware connects: its will, its status, its config and report, retained. */
async function nodeOn(url: string, id: string, config: string, report: string): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, {
    clientId: `node-${id}`,
    protocolVersion: 4,
    reconnectPeriod: 0,
    will: { topic: `tf/status/${id}`, payload: Buffer.from("T1 0"), qos: 1, retain: true },
  });
  await c.publishAsync(`tf/status/${id}`, "T1 1", { qos: 1, retain: true });
  await c.publishAsync(`tf/config/${id}`, config, { qos: 1, retain: true });
  await c.publishAsync(`tf/report/${id}`, report, { qos: 1, retain: true });
  return c;
}

it("counts a node online only by a restarted broker's kept status neither online nor as a follower online, in one log line", async () => {
  const dir = await mkdtemp(join(tmpdir(), "view-broker-restart-"));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  const opts = { host: "127.0.0.1", dataDir: dir, logger: quiet, staleWillGraceMs: 600_000 };
  const first = await startBroker({ ...opts, port: 0 });
  const source = await nodeOn(first.url, "sw", "C1 1", "R1 1 5 sw");
  const follower = await nodeOn(first.url, "lamp", "C1 1 sw", "R1 1 5 sw");
  // Each connection's subscriptions made: the service's "connected and queried" lines.
  const connects: string[] = [];
  const lines = pino({ level: "info" }, { write: (l: string) => void connects.push(JSON.parse(l).msg) });
  const twins: Twins = await startTwins({
    url: first.url,
    logger: lines,
    probe: false,
    reconnectPeriodMs: 200,
  });
  cleanup.push(() => twins.close());
  const view = new TwinsSource(twins, "fleet");
  cleanup.push(async () => view.close());
  const logged: string[] = [];
  view.on("log", (l) => logged.push(l.text));
  await when(() => view.nodes().filter((n) => n.online).length === 2 && view.convergence().online === 1);

  // The broker and both nodes lose power; the broker comes back on its store, the nodes do not.
  await first.kill();
  source.stream.destroy();
  follower.stream.destroy();
  const second = await startBroker({ ...opts, port: first.port });
  cleanup.unshift(() => second.close());
  await when(() => view.nodes().every((n) => n.unheard === true));
  expect(view.nodes().filter((n) => n.online)).toEqual([]);
  expect(view.convergence().online).toBe(0);
  // Not heard is not offline: the follower is counted unheard, as its row and nodes_unheard say.
  expect(view.convergence().unheard).toBe(1);
  expect(view.detail("lamp" as NodeId)?.presence).toBe("unheard");
  expect(logged.filter((t) => t.includes("restarted"))).toEqual([
    "the broker restarted (its start id changed): 2 nodes not heard since (lamp, sw), online only by the status it kept: not counted online until heard, offline when the will comes",
  ]);
  expect(logged.filter((t) => t.endsWith(" offline") || t.endsWith(" online"))).toEqual([]);

  // Its status published once the service has subscribed again (before, the broker replays it to the
  // service as the status it kept, not heard from the node).
  await when(() => connects.filter((m) => m === "twins: connected and queried").length === 2);
  // The follower is heard again (its status): online, and a follower online for convergence.
  const back = await mqtt.connectAsync(second.url, { clientId: "node-lamp", reconnectPeriod: 0 });
  cleanup.push(() => back.endAsync(true));
  await back.publishAsync("tf/status/lamp", "T1 1", { qos: 1, retain: true });
  await when(() => view.node("lamp" as NodeId)?.online === true);
  expect(view.node("lamp" as NodeId)?.unheard).toBeUndefined();
  await when(() => view.convergence().online === 1);
  expect(view.convergence().unheard).toBeUndefined();
  expect(view.node("sw" as NodeId)?.unheard).toBe(true);
});
