/**
 * Aedes's per-client duplicate filter (patched in patches/aedes+1.2.0.patch): retained and QoS 1
 * messages reach the emitter after an async store write, so they overtake one another; none may be
 * dropped for arriving out of order. A message matching two subscriptions of one client still
 * arrives once.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Aedes } from "aedes";
import type { MqttClient } from "mqtt";
import { afterEach, describe, expect, it } from "vitest";
import { startBroker } from "../server.js";
import { client, closeAll, nextMessage } from "./helpers.js";

const NODES = 10;
type Kind = "status" | "register" | "report";
type Counts = Record<Kind, number>;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Counts what `watcher` receives on `rp/<kind>/…` until every kind reached NODES, or `ms` passed. */
function countUntilAll(watcher: MqttClient, ms = 5000): Promise<Counts> {
  const counts: Counts = { status: 0, register: 0, report: 0 };
  return new Promise((resolve) => {
    const finish = () => {
      clearTimeout(timer);
      watcher.off("message", onMessage);
      resolve(counts);
    };
    const timer = setTimeout(finish, ms);
    const onMessage = (topic: string) => {
      const kind = topic.split("/")[1] as Kind;
      counts[kind]++;
      if (counts.status >= NODES && counts.register >= NODES && counts.report >= NODES) finish();
    };
    watcher.on("message", onMessage);
  });
}

/**
 * A node's boot: each of NODES clients connects and subscribes, then all publish at once a retained
 * status, a plain registration and a retained report, as twinfleet nodes do.
 */
async function bootFleet(url: string): Promise<Counts> {
  const watcher = await client(url, { clientId: "watcher" });
  await watcher.subscribeAsync("rp/#");
  const nodes: MqttClient[] = [];
  for (let i = 0; i < NODES; i++) {
    const c = await client(url, { clientId: `node-${i}` });
    await c.subscribeAsync([`rp/config/${i}`, "rp/query", `rp/report/${(i + 1) % NODES}`]);
    nodes.push(c);
  }
  const counted = countUntilAll(watcher);
  for (const [i, c] of nodes.entries()) {
    c.publish(`rp/status/${i}`, "T1 1", { qos: 0, retain: true });
    c.publish(`rp/register/${i}`, "G1", { qos: 0 });
    c.publish(`rp/report/${i}`, "R1 0 0", { qos: 0, retain: true });
  }
  const counts = await counted;
  await closeAll(watcher, ...nodes);
  return counts;
}

const everything: Counts = { status: NODES, register: NODES, report: NODES };

describe("no message is dropped for overtaking another", () => {
  it("plain aedes on a TCP socket", async () => {
    const aedes = await Aedes.createBroker();
    const server = createServer((socket) => aedes.handle(socket));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanups.push(async () => {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const { port } = server.address() as AddressInfo;
    expect(await bootFleet(`mqtt://127.0.0.1:${port}`)).toEqual(everything);
  });

  it("startBroker in memory", async () => {
    const broker = await startBroker({ host: "127.0.0.1", port: 0 });
    cleanups.push(() => broker.close());
    expect(await bootFleet(broker.url)).toEqual(everything);
  });

  it("startBroker with a LevelDB data directory", async () => {
    const dir = await mkdtemp(join(tmpdir(), "twinfleet-dedupe-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const broker = await startBroker({ host: "127.0.0.1", port: 0, dataDir: dir });
    cleanups.push(() => broker.close());
    expect(await bootFleet(broker.url)).toEqual(everything);
  });
});

describe("overlapping subscriptions", () => {
  it.each([0, 1] as const)("deliver a message matching two of them once (QoS %i)", async (qos) => {
    const broker = await startBroker({ host: "127.0.0.1", port: 0 });
    cleanups.push(() => broker.close());
    const sub = await client(broker.url, { clientId: "sub" });
    await sub.subscribeAsync({ "a/#": { qos }, "a/b": { qos } });
    const pub = await client(broker.url, { clientId: "pub" });
    cleanups.push(() => closeAll(sub, pub));

    const seen: string[] = [];
    sub.on("message", (topic) => seen.push(topic));
    // Messages of one publisher that take the same path (retained ones wait for the store, plain
    // ones do not) reach a subscriber in order: once the marker (matching a/# only) is in, every
    // copy of a/b sent before it would be too.
    for (const retain of [false, true]) {
      const marker = nextMessage(sub, "a/marker");
      await pub.publishAsync("a/b", "1", { qos, retain });
      await pub.publishAsync("a/marker", "done", { qos, retain });
      await marker;
    }
    expect(seen).toEqual(["a/b", "a/marker", "a/b", "a/marker"]);
  });
});
