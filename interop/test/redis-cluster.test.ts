// Three `twinfleet broker --redis` processes sharing one Redis server act as one broker: QoS 1
// messages published on one reach a subscriber on another exactly once; retained reports and statuses
// and last wills written through one are what the others serve; a client id connecting on another
// broker takes the session over; a fleet split over shards on the three merges with nothing lost.
// A Redis restart is logged by every broker, which keeps running and carries messages again; so is a
// Redis refusing writes at its maxmemory.
import { Redis } from "ioredis";
import mqtt from "mqtt";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { findRedisServer, type RedisCluster, START_HOOK_MS, startRedisCluster } from "../redis-cluster.js";
import { type Delivery, retainedWhen, startNode, until } from "./helpers.js";
import { shardsMergeIntoOneFleet } from "./shards.js";

let cluster: RedisCluster;
const open: { close(): Promise<unknown> }[] = [];
beforeAll(async () => {
  cluster = await startRedisCluster({ members: 3 });
}, START_HOOK_MS);
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});
afterAll(async () => {
  await cluster?.close();
});

const url = (i: number): string => cluster.urls[i] as string;

async function client(i: number, opts: mqtt.IClientOptions = {}) {
  const c = await mqtt.connectAsync(url(i), { protocolVersion: 4, clean: true, reconnectPeriod: 0, ...opts });
  open.push({ close: () => c.endAsync(true) });
  return c;
}

/** Publishes `count` QoS 1 messages on broker `from`, all in flight together; what broker `to` got. */
async function qos1Across(from: number, to: number, count: number): Promise<number[]> {
  const sub = await client(to);
  const got: number[] = [];
  sub.on("message", (_t, payload) => got.push(Number(payload.toString())));
  await sub.subscribeAsync("tf/state/+", { qos: 1 });
  const pub = await client(from);
  await Promise.all(
    Array.from({ length: count }, (_, i) => pub.publishAsync(`tf/state/n-${i % 7}`, String(i), { qos: 1 })),
  );
  await until(() => got.length >= count, `${count} messages on broker ${to + 1} (got ${got.length})`, 10_000);
  return got;
}

describe("the Redis cluster harness", () => {
  it("names the Debian package when redis-server is missing", () => {
    expect(() => findRedisServer(["/nonexistent"])).toThrow(/install the Debian package redis-server/);
  });

  it("fails a start at once when a member exits, with what it logged, not at the start's limit", async () => {
    const began = performance.now();
    const start = startRedisCluster({ members: 1, brokerArgs: ["--no-such-flag"], timeoutMs: 100_000 });
    await expect(start).rejects.toThrow(/b1 exited while starting:[\s\S]*unknown option .--no-such-flag/);
    // Well short of the limit: the exit, not a timer, ended the wait.
    expect(performance.now() - began).toBeLessThan(50_000);
  });
});

describe("brokers sharing Redis", () => {
  it("carry QoS 1 messages from one broker to a subscriber on another, each exactly once", async () => {
    const got = await qos1Across(0, 1, 300);
    expect(got.length).toBe(300);
    expect(new Set(got).size).toBe(300);
  });

  it("serve on one broker the retained report and status a node wrote through another", async () => {
    const a = await startNode(url(0), "rx-a");
    open.push({ close: () => a.stop() });
    a.press();
    await until(() => a.state.stamp.counter === 1, "rx-a pressed");
    // Read again until both are there as retained messages: broker 3 may send them after the list's
    // closing marker, the report may still be on its way live (retain 0) when the read starts, and
    // the retained report may still be the boot's (R1 0 0) while the press's crosses Redis (the
    // node's own state said pressed before the broker it wrote to had stored it).
    const got = await retainedWhen(
      url(2),
      "tf/+/rx-a",
      (m) =>
        ["tf/status/rx-a", "tf/report/rx-a"].every((t) => m.get(t)?.retain === true) &&
        m.get("tf/report/rx-a")?.payload !== "R1 0 0 rx-a",
    );
    expect(got.get("tf/report/rx-a")).toMatchObject({ payload: "R1 1 1 rx-a", retain: true });
    expect(got.get("tf/status/rx-a")).toMatchObject({ payload: "T1 1", retain: true });
  });

  it("announce a node that loses its link on broker 1 offline on broker 2, retained", async () => {
    const watcher = await client(1);
    const seen: Delivery[] = [];
    watcher.on("message", (topic, payload, p) =>
      seen.push({ topic, payload: payload.toString(), retain: p.retain, qos: p.qos }),
    );
    await watcher.subscribeAsync("tf/status/wl-a", { qos: 1 });
    const a = await startNode(url(0), "wl-a");
    open.push({ close: () => a.stop() });
    await until(() => seen.some((d) => d.payload === "T1 1"), "wl-a online on broker 2");
    await a.powerOff(); // no DISCONNECT: broker 1 publishes the will
    await until(() => seen.some((d) => d.payload === "T1 0"), "wl-a's will on broker 2");
    expect(seen.at(-1)).toMatchObject({ payload: "T1 0", qos: 1 });
    const kept = await retainedWhen(
      url(2),
      "tf/status/wl-a",
      (m) => m.get("tf/status/wl-a")?.payload === "T1 0",
    );
    expect(kept.get("tf/status/wl-a")).toMatchObject({
      payload: "T1 0",
      retain: true,
    });
  });

  it("let a client id connecting on another broker take the session over, queued QoS 1 included", async () => {
    const first = await client(0, { clientId: "tf-to-a", clean: false });
    await first.subscribeAsync("tf/cmd/tf-to-a", { qos: 1 });
    const closed = new Promise<void>((resolve) => first.once("close", () => resolve()));
    const second = await client(1, { clientId: "tf-to-a", clean: false });
    await closed;
    expect(second.connected).toBe(true);
    const got: string[] = [];
    second.on("message", (_t, payload) => got.push(payload.toString()));
    // The session's subscription, made on broker 1, delivers on broker 2 without a new SUBSCRIBE.
    const control = await client(2);
    await control.publishAsync("tf/cmd/tf-to-a", "F1 1", { qos: 1 });
    await until(() => got.length > 0, "the command on the taken-over session");
    expect(got).toEqual(["F1 1"]);
  });

  it("run a fleet split over shards on the three brokers: the shards' sums, nothing lost", async () => {
    await shardsMergeIntoOneFleet(cluster.urls, "redis-shards");
    // 8 s of presses and settling; the rest is three processes starting, which a busy host slows
    // (60 s ran out at load 21–25 with the check itself passing).
  }, 150_000);

  it("keep serving while Redis refuses writes at its maxmemory, log it once, and write again after", async () => {
    const redis = new Redis(cluster.redisUrl);
    open.push({ close: () => redis.quit() });
    // Every write answered OOM: used memory is over 1 byte.
    await redis.config("SET", "maxmemory", "1");
    try {
      // Connecting with a will writes it (putWill); its lrem and rpush went unawaited in the package
      // and their OOM rejections ended the broker process.
      const will = { topic: "tf/status/n-0777", payload: Buffer.from("S1 0"), qos: 1 as const, retain: true };
      const node = await client(0, { clientId: "tf-n-0777", will });
      await node.publishAsync("tf/report/n-0777", "R1 1 1 n-0777", { qos: 1, retain: true });
      await until(() => cluster.log(0).includes("cannot be written (OOM"), "broker 1 logging Redis's OOM");
      expect(cluster.members.every((m) => m.running())).toBe(true);
      const again = await client(1, { clientId: "tf-n-0778", will: { ...will, topic: "tf/status/n-0778" } });
      expect(node.connected && again.connected).toBe(true);
    } finally {
      await redis.config("SET", "maxmemory", "0");
    }
    const later = await client(0);
    await later.publishAsync("tf/report/n-0779", "R1 1 1 n-0779", { qos: 1, retain: true });
    await until(() => cluster.log(0).includes("is written again"), "broker 1 logging Redis written again");
    expect(cluster.log(0).match(/cannot be written/g)).toHaveLength(1);
  });

  it("keep running through a Redis restart, log it, and carry messages again", async () => {
    await cluster.restartRedis();
    await until(
      () => [0, 1, 2].every((i) => cluster.log(i).includes("Redis connection back")),
      "every broker logging its Redis connections back",
    );
    expect(cluster.log(0)).toContain("Redis connection lost");
    expect(cluster.members.every((m) => m.running())).toBe(true);
    const got = await qos1Across(2, 0, 50);
    expect(new Set(got).size).toBe(50);
  });
});
