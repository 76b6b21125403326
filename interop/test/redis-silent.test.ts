// A `twinfleet broker --redis` whose Redis is frozen (SIGSTOP: its sockets stay open, nothing
// answers) says so once, with the password of its Redis URL hidden, and once more when Redis answers
// again, with how long it was silent. Its connected clients stay connected meanwhile (their keepalive
// answered by the broker); what they sent and a client's connection wait, and go through once Redis
// is back.
import mqtt from "mqtt";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { type RedisCluster, START_HOOK_MS, startRedisCluster } from "../redis-cluster.js";
import { until } from "./helpers.js";

const PASSWORD = "silent-pw-7319";
let cluster: RedisCluster;
const open: { close(): Promise<unknown> }[] = [];
beforeAll(async () => {
  cluster = await startRedisCluster({ members: 1, password: PASSWORD });
}, START_HOOK_MS);
afterEach(async () => {
  const pid = cluster.redisPid();
  if (pid !== undefined) process.kill(pid, "SIGCONT");
  for (const o of open.splice(0).reverse()) await o.close();
});
afterAll(async () => {
  await cluster?.close();
});

async function client(opts: mqtt.IClientOptions = {}) {
  const c = await mqtt.connectAsync(cluster.urls[0] as string, {
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
    ...opts,
  });
  open.push({ close: () => c.endAsync(true) });
  return c;
}

/** The broker's log lines (`12:03:04.120 ERROR message field=value …`) that match `re`. */
const logged = (re: RegExp): string[] =>
  cluster
    .log(0)
    .split("\n")
    .filter((l) => re.test(l));
/** A line's `silentMs=` field. */
const silentMs = (line: string | undefined): number => Number(/ silentMs=(\d+)/.exec(line ?? "")?.[1]);

it("logs a frozen Redis once, keeps its clients connected, and logs its return with the silence's length", async () => {
  const sub = await client({ keepalive: 1 });
  const got: string[] = [];
  sub.on("message", (_t, payload) => got.push(payload.toString()));
  await sub.subscribeAsync("tf/state/+", { qos: 1 });
  let closed = false;
  sub.on("close", () => {
    closed = true;
  });
  const pub = await client({ keepalive: 1 });

  const pid = cluster.redisPid() as number;
  process.kill(pid, "SIGSTOP");
  const waited = pub.publishAsync("tf/state/n-1", "during", { qos: 1 });
  // A connection begun meanwhile: its session is in Redis, so its CONNACK waits for it.
  let lateConnected = false;
  const late = mqtt.connectAsync(cluster.urls[0] as string, {
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 30_000,
  });
  void late.then(() => {
    lateConnected = true;
  });
  await until(() => logged(/has not answered/).length > 0, "the broker logging Redis silent", 9_000);
  const [silent] = logged(/has not answered/);
  expect(silent).toMatch(
    /^\S+ ERROR Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ has not answered for 5 s; the broker keeps its clients connected, but .*: check that the Redis server is running/,
  );
  expect(silent).toContain(' connections=["store","publish","subscribe"]');
  expect(silentMs(silent)).toBeGreaterThanOrEqual(5_000);
  // Through 1 s keepalives, answered by the broker alone, the clients stay connected.
  expect(closed).toBe(false);
  expect(sub.connected && pub.connected).toBe(true);
  expect(got).toEqual([]);
  expect(lateConnected).toBe(false);

  process.kill(pid, "SIGCONT");
  await until(() => logged(/answers again/).length > 0, "the broker logging Redis back", 5_000);
  const [back] = logged(/answers again/);
  expect(back).toMatch(
    /^\S+ WARN {2}Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ answers again after \d+\.\d s/,
  );
  expect(silentMs(back)).toBeGreaterThanOrEqual(silentMs(silent));
  await waited;
  await until(() => got.includes("during"), "the publish made during the freeze delivered");
  const lateClient = await late;
  open.push({ close: () => lateClient.endAsync(true) });
  expect(lateClient.connected).toBe(true);
  expect(closed).toBe(false);
  expect(logged(/has not answered/)).toHaveLength(1);
  expect(cluster.log(0)).not.toContain(PASSWORD);
  expect(cluster.members[0]?.running()).toBe(true);
}, 20_000);
