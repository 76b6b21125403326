// The twins service on a Mosquitto whose client queue is short even for QoS 0 (max_queued_bytes 200)
// beside 300 nodes' retained state: it listed 50 nodes, with 19 configs and 15 reports, at its start
// and again after Mosquitto restarted on its store, and its log said nothing of it but, when the start
// came within Mosquitto's sys_interval, a rise of the broker's dropped count. The service now asks
// whether the broker cut each replay (twins/replay-cut.ts), asks again node by node for the nodes it
// knows (twins/replay-reread.ts), and tells it: a warning, the `replay-cut` event (/metrics counts
// them). Neither on a default Mosquitto beside 3,000 nodes nor on twinfleet's broker.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, expect, it } from "vitest";
import { startBroker } from "../../broker/index.js";
import { startTwins, type Twins } from "../../twins/index.js";
import type { ReplayCutTold } from "../../twins/types.js";
import { type Mosquitto, startMosquitto } from "../mosquitto.js";
import { fleetLeft } from "./helpers.js";

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function when(cond: () => boolean, timeout = 15_000): Promise<void> {
  return expect.poll(cond, { timeout, interval: 20 }).toBe(true) as unknown as Promise<void>;
}

/** A twins service on `url`, its warnings and its `replay-cut` events kept. */
async function service(url: string) {
  const warned: string[] = [];
  const write = (l: string) => {
    const line = JSON.parse(l) as { level: number; msg: string };
    if (line.level >= 40) warned.push(line.msg);
  };
  const told: ReplayCutTold[] = [];
  const twins: Twins = await startTwins({
    url,
    logger: pino({ level: "warn" }, { write }),
    probe: false,
    reconnectPeriodMs: 500,
  });
  twins.on("replay-cut", (t) => told.push(t));
  cleanup.push(() => twins.close());
  return { twins, warned, told };
}

/** Every twin with its config, status and report: none left as the cut replay left it. */
const whole = (t: Twins) =>
  t.list().every((n) => n.config !== undefined && n.reported !== undefined && n.presence === "offline");

it("tells a replay Mosquitto cut, at the start and after a restart, and reads whole every node it knows", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "twinfleet-mosquitto-data-"));
  cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
  const first: Mosquitto = await startMosquitto({ dataDir, conf: ["max_queued_bytes 200"] });
  await fleetLeft(first.url, 300);
  const s = await service(first.url);
  // Told as the service connected, before startTwins resolved: the log and the count have it.
  await when(() => s.twins.replaysCut?.() === 1);
  const n = s.twins.count();
  // The nodes the cut replay told of (50 in a measure), each whole; not the 300.
  expect(n).toBeLessThan(300);
  expect(whole(s.twins), first.log()).toBe(true);
  const line = s.warned.find((w) => w.includes("cut its replay"));
  expect(line).toContain(`cut its replay of the retained messages on tf/config/+, tf/status/+, tf/report/+`);
  expect(line).toContain(`the service read ${n} nodes`);
  expect(line).toContain("set max_queued_bytes 0 and max_queued_messages 0 in mosquitto.conf");
  // Mosquitto restarted on its store: the service reads it again, cut again, and tells it again.
  await first.close();
  const second = await startMosquitto({ dataDir, port: first.port, conf: ["max_queued_bytes 200"] });
  cleanup.unshift(() => second.close());
  await when(() => s.told.length === 1);
  expect(s.twins.replaysCut?.()).toBe(2);
  expect(s.told[0]).toMatchObject({
    cut: ["tf/config/+", "tf/status/+", "tf/report/+"],
    unread: [],
    nodes: n,
  });
  expect(whole(s.twins)).toBe(true);
}, 60_000);

it("tells nothing on a default Mosquitto beside 3,000 nodes, nor on twinfleet's broker", async () => {
  const mosquitto = await startMosquitto();
  cleanup.push(() => mosquitto.close());
  const own = await startBroker({ host: "127.0.0.1", port: 0 });
  cleanup.push(() => own.close());
  await fleetLeft(mosquitto.url, 3000);
  await fleetLeft(`mqtt://127.0.0.1:${own.port}`, 300);
  for (const [url, nodes] of [
    [mosquitto.url, 3000],
    [`mqtt://127.0.0.1:${own.port}`, 300],
  ] as const) {
    const s = await service(url);
    await when(() => s.twins.count() === nodes && whole(s.twins));
    // Its replay is over once the marker is back: nothing cut was found by then.
    await s.twins.replayOver?.(10_000);
    expect(s.told).toEqual([]);
    expect(s.twins.replaysCut?.()).toBe(0);
    expect(s.warned.filter((w) => w.includes("cut its replay"))).toEqual([]);
  }
}, 60_000);
