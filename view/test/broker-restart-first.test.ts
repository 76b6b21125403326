/**
 * The broker's restart told at a service's first connection (twins/broker-restart.ts: a power cut
 * took the broker and the service together) reaches the view's event log, as a restart told on a
 * reconnection does: told while startTwins connected, before the view opened, it reached no log; and
 * told before the broker replayed its statuses, it said "every node shown online has been heard
 * since" of nodes then shown unheard. Real sockets: the twinfleet broker on port 0.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { pino } from "pino";
import { afterEach, expect, it } from "vitest";
import { startBroker } from "../../broker/index.js";
import { jsonFileStore, startTwins, type TwinsOptions } from "../../twins/index.js";
import { TwinsSource } from "../twins-source.js";

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});
const quiet = pino({ level: "silent" });

function when(cond: () => boolean): Promise<void> {
  return expect.poll(cond, { timeout: 10_000, interval: 5 }).toBe(true) as unknown as Promise<void>;
}

async function dirOf(name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), name));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

it.each([
  ["waiting for its broker (twinfleet twins, monitor)", true],
  ["connected before it resolves", false],
])("logs the restart told at the first connection of a service %s", async (_, waitForBroker) => {
  const brokerDir = await dirOf("view-first-restart-b-");
  const twinsDir = await dirOf("view-first-restart-t-");
  const opts = { host: "127.0.0.1", dataDir: brokerDir, logger: quiet, staleWillGraceMs: 600_000 };
  const first = await startBroker({ ...opts, port: 0 });
  const node = await mqtt.connectAsync(first.url, {
    clientId: "node-ghost",
    reconnectPeriod: 0,
    will: { topic: "tf/status/ghost", payload: Buffer.from("T1 0"), qos: 1, retain: true },
  });
  await node.publishAsync("tf/status/ghost", "T1 1", { qos: 1, retain: true });
  const twinsOpts = (url: string): TwinsOptions => ({
    url,
    logger: quiet,
    probe: false,
    reconnectPeriodMs: 200,
  });
  const before = await startTwins({ ...twinsOpts(first.url), store: await jsonFileStore(twinsDir) });
  await when(() => before.get("ghost")?.presence === "online");
  await before.close();

  // The power goes with the service stopped: the broker (no will published) and the node.
  await first.kill();
  node.stream.destroy();
  const second = await startBroker({ ...opts, port: first.port });
  cleanup.push(() => second.close());
  // As the CLI opens its view: once startTwins has resolved.
  const twins = await startTwins({
    ...twinsOpts(second.url),
    waitForBroker,
    store: await jsonFileStore(twinsDir),
  });
  cleanup.push(() => twins.close());
  const view = new TwinsSource(twins, "fleet");
  cleanup.push(async () => view.close());
  const logged: string[] = [];
  view.on("log", (l) => logged.push(l.text));
  await when(() => twins.get("ghost")?.presence === "unheard");
  expect(await twins.replayOver?.(10_000)).toBe(true);
  expect(logged.filter((t) => t.includes("restarted"))).toEqual([
    "the broker restarted since the service before this one on its data directory read it (its start id changed): the statuses it replays are not counted online until their nodes are heard, offline when the will comes",
  ]);
});
