// A member of a Redis cluster killed and started again (docs/cluster.md, "A member restarted, many
// times"): it tells the others it is alive at once, not a minute later (aedes's first heartbeat),
// and the will a node left with its killed run is not handed to aedes's clean-up once the node has
// a will on the restarted member (the store's streamWill, as the clean-up calls it).

import { Redis } from "ioredis";
import mqtt from "mqtt";
import pino from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { openRedisStore } from "../../broker/redis-store.js";
import { type RedisCluster, START_HOOK_MS, startRedisCluster } from "../redis-cluster.js";
import { until } from "./helpers.js";

let cluster: RedisCluster;
beforeAll(async () => {
  cluster = await startRedisCluster({ members: 2 });
}, START_HOOK_MS);
afterAll(async () => {
  await cluster?.close();
});

/** The broker ids of the wills Redis holds for `clientId`, in the order stored. */
async function willBrokers(db: Redis, clientId: string): Promise<string[]> {
  const keys = await db.lrange("will", 0, -1);
  return keys.filter((k) => k.endsWith(`:${clientId}`)).map((k) => k.split(":")[1] as string);
}

async function nodeWithWill(url: string, id: string): Promise<mqtt.MqttClient> {
  return mqtt.connectAsync(url, {
    clientId: id,
    reconnectPeriod: 0,
    will: { topic: `tf/status/${id}`, payload: Buffer.from("T1 0"), qos: 1, retain: true },
  });
}

it(
  "a restarted member: its heartbeat comes at once, and a node's old will is deleted, not handed out",
  async () => {
    const db = new Redis(cluster.redisUrl);
    const watcher = await mqtt.connectAsync(cluster.urls[1] as string, { reconnectPeriod: 0 });
    const beats: string[] = [];
    watcher.on("message", (_topic, payload) => beats.push(payload.toString()));
    await watcher.subscribeAsync("$SYS/+/heartbeat");
    try {
      const before = await nodeWithWill(cluster.urls[0] as string, "n-r1");
      const [oldId] = await willBrokers(db, "n-r1");
      expect(oldId).toBeDefined();
      await cluster.kill(0);
      before.end(true);
      await cluster.restart(0);
      const after = await nodeWithWill(cluster.urls[0] as string, "n-r1");
      const ids = await willBrokers(db, "n-r1");
      const newId = ids.find((id) => id !== oldId) as string;
      expect(ids).toEqual([oldId, newId]);
      // Aedes's own first heartbeat comes 60 s after the start; the restarted member's came with it.
      await until(() => beats.includes(newId), "the restarted member's heartbeat", 20_000);
      // The clean-up's read: the live members named, the killed run not.
      const store = await openRedisStore(cluster.redisUrl, pino({ level: "silent" }));
      try {
        const handed: { clientId: string; brokerId: string }[] = [];
        const persistence = store.persistence as {
          streamWill(b: Record<string, number>): AsyncIterable<{ clientId: string; brokerId: string }>;
        };
        for await (const w of persistence.streamWill({ [newId]: 1 })) handed.push(w);
        expect(handed.filter((w) => w.clientId === "n-r1")).toEqual([]);
        expect(await willBrokers(db, "n-r1")).toEqual([newId]);
      } finally {
        await store.close();
      }
      after.end(true);
    } finally {
      await watcher.endAsync();
      db.disconnect();
    }
  },
  START_HOOK_MS,
);
