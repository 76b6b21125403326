// Two `twinfleet broker --redis` members sharing one Redis server; a twins service on member 2 and
// nodes on both. Member 1 killed (SIGKILL): member 2 misses its beats while its own come round Redis,
// tells it lost within seconds, and the twins take the nodes on it as unheard — no will published,
// the node on member 2 still online — and online again once they are back on the restarted member.
// A frozen Redis (SIGSTOP) longer than the loss time takes no member for lost (docs/cluster.md,
// "A member lost").
import mqtt from "mqtt";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { CoreClient } from "../../node/mqtt-node.js";
import { Fixtures } from "../../twins/test/helpers.js";
import { type RedisCluster, START_HOOK_MS, startRedisCluster } from "../redis-cluster.js";
import { startNode, until } from "./helpers.js";

let cluster: RedisCluster;
const fx = new Fixtures();
beforeAll(async () => {
  cluster = await startRedisCluster({ members: 2 });
}, START_HOOK_MS);
afterEach(() => {
  const pid = cluster.redisPid();
  if (pid !== undefined) process.kill(pid, "SIGCONT");
});
afterAll(async () => {
  await fx.close();
  await cluster?.close();
});

const url = (i: number): string => cluster.urls[i] as string;
const LOSSES = "$SYS/broker/member/+/lost";

/** A watcher on member `i`: every loss told, and every status published. */
async function watcher(i: number) {
  const c = await mqtt.connectAsync(url(i), { protocolVersion: 4, clean: true, reconnectPeriod: 0 });
  const losses: string[] = [];
  const beating = new Set<string>();
  const statuses: string[] = [];
  c.on("message", (topic, payload, packet) => {
    if (topic.endsWith("/beat")) beating.add(topic);
    else if (topic.startsWith("$SYS/")) losses.push(`${topic} ${payload.toString()}`);
    else if (packet.retain !== true) statuses.push(`${topic} ${payload.toString()}`);
  });
  await c.subscribeAsync([LOSSES, "$SYS/broker/member/+/beat", "tf/status/+"], { qos: 1 });
  fx.track(c, (x: mqtt.MqttClient) => x.endAsync(true));
  return { losses, statuses, beating };
}

describe("a member of a Redis cluster lost", () => {
  it("is told within seconds; the twins take its nodes as unheard, publish no will, and see them again once back", async () => {
    fx.url = url(1);
    const t = await fx.twins();
    const node = async (i: number, id: string) =>
      fx.track(await startNode(url(i), id, { reconnect: true }), (n: CoreClient) => n.stop());
    const lostNode = await node(0, "ml-a");
    await node(1, "ml-b");
    await until(() => ["ml-a", "ml-b"].every((id) => t.get(id)?.presence === "online"), "both online");
    const w = await watcher(1);
    // Member 2 has heard member 1 beat (a member that dies before any other heard it, with no will in
    // Redis when they started, is left to the heartbeat: docs/cluster.md).
    await until(() => w.beating.size >= 2, "both members' beats on member 2", 10_000);

    const killedAt = performance.now();
    await cluster.kill(0);
    await until(() => t.get("ml-a")?.presence === "unheard", "ml-a unheard on the twins", 30_000);
    const unheardMs = performance.now() - killedAt;
    console.log(`ml-a unheard on the twins ${(unheardMs / 1000).toFixed(1)} s after its member's kill`);
    await until(() => w.losses.length > 0, "the loss on the watcher", 5_000);
    expect(w.losses).toHaveLength(1);
    expect(w.losses[0]).toMatch(/^\$SYS\/broker\/member\/[^/]+\/lost [\s\S]*tf\/status\/ml-a/);
    expect(t.get("ml-b")?.presence).toBe("online");
    // Nobody published a will: ml-a may be alive on a member cut off only from Redis.
    expect(w.statuses.filter((s) => s.startsWith("tf/status/ml-a"))).toEqual([]);

    await cluster.restart(0);
    await until(() => lostNode.state.phase === "synced", "ml-a back on its member", 30_000);
    await until(() => t.get("ml-a")?.presence === "online", "ml-a online again on the twins", 10_000);
    expect(cluster.log(1)).toMatch(/WARN {2}cluster member \S+ has sent no beat for \d+\.\d s/);
  }, 120_000);

  it("takes no member for lost while Redis is frozen longer than the loss time", async () => {
    const w = await watcher(1);
    const lossLines = () =>
      cluster
        .log(1)
        .split("\n")
        .filter((l) => l.includes("has sent no beat")).length;
    const before = lossLines();
    const pid = cluster.redisPid() as number;
    process.kill(pid, "SIGSTOP");
    await new Promise((r) => setTimeout(r, 12_000));
    process.kill(pid, "SIGCONT");
    // The members' beats resume; a loss would be told within 5 s of Redis answering.
    await new Promise((r) => setTimeout(r, 8_000));
    expect(w.losses).toEqual([]);
    expect(lossLines()).toBe(before);
  }, 60_000);
});
