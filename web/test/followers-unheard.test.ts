/**
 * Followers not heard since the broker restarted, as `/api/convergence` and `/metrics` tell them: a
 * follower the restarted broker's kept status alone shows online is `unheard`, not offline, in the
 * convergence snapshot (`unheard`), its API shape and `twinfleet_followers_unheard`, as its row,
 * `/api/nodes` and `twinfleet_nodes_unheard` say. Real sockets: the twinfleet broker on port 0.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { pino } from "pino";
import { afterEach, expect, it } from "vitest";
import { startBroker } from "../../broker/index.js";
import type { NodeId } from "../../protocol/index.js";
import { startTwins } from "../../twins/index.js";
import { TwinsSource } from "../../view/twins-source.js";
import { WebMetrics } from "../metrics.js";
import { convergenceOf } from "../shapes.js";
import { parsePrometheus } from "./helpers.js";

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

it("counts a follower not heard since the broker restarted as unheard, not offline, in the API and /metrics", async () => {
  const dir = await mkdtemp(join(tmpdir(), "web-followers-unheard-"));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  const opts = { host: "127.0.0.1", dataDir: dir, logger: quiet, staleWillGraceMs: 600_000 };
  const first = await startBroker({ ...opts, port: 0 });
  const source = await nodeOn(first.url, "sw", "C1 1", "R1 1 5 sw");
  const follower = await nodeOn(first.url, "lamp", "C1 1 sw", "R1 1 5 sw");
  // Each connection's subscriptions made: the service's "connected and queried" lines.
  const connects: string[] = [];
  const lines = pino({ level: "info" }, { write: (l: string) => void connects.push(JSON.parse(l).msg) });
  const twins = await startTwins({ url: first.url, logger: lines, probe: false, reconnectPeriodMs: 200 });
  cleanup.push(() => twins.close());
  const view = new TwinsSource(twins, "fleet");
  cleanup.push(async () => view.close());
  const metrics = new WebMetrics(view);
  const scrape = async () => parsePrometheus(await metrics.text());
  await when(() => view.convergence().online === 1);
  expect((await scrape()).get("twinfleet_followers_unheard")).toBe(0);
  expect(convergenceOf(view.convergence(), 0)).not.toHaveProperty("unheard");

  // The broker and both nodes lose power; the broker comes back on its store, the nodes do not yet.
  await first.kill();
  source.stream.destroy();
  follower.stream.destroy();
  const second = await startBroker({ ...opts, port: first.port });
  cleanup.unshift(() => second.close());
  await when(() => view.nodes().every((n) => n.unheard === true));
  await when(() => view.convergence().unheard === 1);
  expect(convergenceOf(view.convergence(), 0)).toMatchObject({ known: 1, online: 0, unheard: 1 });
  const m = await scrape();
  expect(m.get("twinfleet_followers_online")).toBe(0);
  expect(m.get("twinfleet_followers_unheard")).toBe(1);
  expect(m.get("twinfleet_nodes_unheard")).toBe(2);

  // Its status published once the service has subscribed again (before, the broker replays it to the
  // service as the status it kept, not heard from the node).
  await when(() => connects.filter((m) => m === "twins: connected and queried").length === 2);
  // The follower is heard again: online, and no longer unheard.
  const back = await mqtt.connectAsync(second.url, { clientId: "node-lamp", reconnectPeriod: 0 });
  cleanup.push(() => back.endAsync(true));
  await back.publishAsync("tf/status/lamp", "T1 1", { qos: 1, retain: true });
  await when(() => view.node("lamp" as NodeId)?.online === true && view.convergence().online === 1);
  expect(convergenceOf(view.convergence(), 0)).not.toHaveProperty("unheard");
  expect((await scrape()).get("twinfleet_followers_unheard")).toBe(0);
});
