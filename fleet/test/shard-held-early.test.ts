/**
 * A shard's early word on the nodes the twins service on the broker holds no twin of: once the
 * fleet has registered, a shard asks about its own registered nodes and warns, as a one-process run
 * does, instead of leaving it to the merged report.
 */
import mqtt from "mqtt";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { RealScheduler } from "../../node/scheduler.js";
import { encode, NodeId, Prefix } from "../../protocol/index.js";
import { startTwins, type Twins } from "../../twins/index.js";
import { type BrokerHost, openBrokerHost } from "../broker-host.js";
import { shardHeldEarlyLine } from "../shard-held.js";

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function brokerWithTwins(maxNodes?: number): Promise<{ broker: BrokerHost; twins: Twins }> {
  const logger = pino({ level: "silent" });
  const broker = await openBrokerHost({ logger, scheduler: new RealScheduler() });
  closers.push(() => broker.close());
  const twins = await startTwins({
    url: broker.url,
    clientId: "ctl-a",
    logger,
    ...(maxNodes ? { maxNodes } : {}),
  });
  closers.push(() => twins.close());
  return { broker, twins };
}

/** A shard's client that has registered `ids` (as its nodes do when they boot). */
async function shardClient(url: string, ids: readonly NodeId[]): Promise<mqtt.MqttClient> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  closers.push(() => client.endAsync(true));
  for (const node of ids) {
    const e = encode(Prefix("tf"), {
      kind: "register",
      node,
      nodeKind: "sim",
      profile: "uno-w5100",
      firmware: "1.0.0",
    });
    await client.publishAsync(e.topic, e.payload, { qos: 1 });
  }
  return client;
}

const ids = ["n-0000", "n-0001", "n-0002", "n-0003"].map(NodeId);

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 25));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
}

describe("a shard's early word on the nodes the twins service holds", () => {
  it("names the shard's registered nodes a full service holds no twin of, and the fleet's size to give it", async () => {
    const { broker, twins } = await brokerWithTwins(2);
    const client = await shardClient(broker.url, ids);
    await until(() => twins.list().length === 2, "the service full");
    const target = { url: broker.url, prefix: Prefix("tf") };
    const line = await shardHeldEarlyLine(client, target, ids, 8, new RealScheduler());
    expect(line).toBe(
      "2 of this shard's 4 registered nodes have no twin in the twins service ctl-a, which keeps at most 2 twins (--max-nodes 2) and holds 2: n-0002, n-0003 are neither shown nor controlled by it, and fail the merged report; to fix it, stop the shards (Ctrl-C) and start the service with --max-nodes above the fleet's 8",
    );
  }, 30_000);

  it("says nothing beside a service with room", async () => {
    const { broker, twins } = await brokerWithTwins();
    const client = await shardClient(broker.url, ids);
    await until(() => twins.list().length === 4, "every node held");
    const target = { url: broker.url, prefix: Prefix("tf") };
    expect(await shardHeldEarlyLine(client, target, ids, 8, new RealScheduler())).toBeUndefined();
  }, 30_000);
});
