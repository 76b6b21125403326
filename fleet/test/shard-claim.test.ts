// A shard claims its ids as a one-process run does (fleet/fleet-claim.ts): two sharded fleets started
// together on one broker both found their ids offline, both booted, and each took the other's
// sessions over (10 tries of 2 × 2 shards of 40 nodes: docs/shards.md). A shard whose ids another run
// has claimed gives way, and is refused once the claim has stayed its wait; a stop ends that wait.
import mqtt from "mqtt";
import { pino } from "pino";
import { afterEach, beforeEach, expect, it } from "vitest";
import { RealScheduler } from "../../node/scheduler.js";
import { Prefix } from "../../protocol/index.js";
import { type BrokerHost, openBrokerHost } from "../broker-host.js";
import { claimTopic } from "../fleet-claim.js";
import { FleetIdsInUseError, FleetStartStoppedError } from "../ids-in-use.js";
import { ShardRun } from "../shard-run.js";
import { idleShard } from "./idle-shard.js";

let broker: BrokerHost;
let other: mqtt.MqttClient;

beforeEach(async () => {
  broker = await openBrokerHost({ logger: pino({ level: "silent" }), scheduler: new RealScheduler() });
  // Another run, about to boot n-0001 (shard 2 of 2 runs n-0001 and n-0003), holds its claim.
  const topic = claimTopic(Prefix("tf"), "other");
  other = await mqtt.connectAsync(broker.url, {
    clientId: "tf-claim-other",
    reconnectPeriod: 0,
    will: { topic, payload: Buffer.alloc(0), qos: 1, retain: true },
  });
  await other.publishAsync(topic, JSON.stringify({ ids: ["n-0001"] }), { qos: 1, retain: true });
});

afterEach(async () => {
  await other.endAsync(true);
  await broker.close();
});

const shard = (keepaliveS: number) => idleShard(broker.url, keepaliveS);

it("refuses a shard whose ids another run has claimed, though none of them is online", async () => {
  const notes: string[] = [];
  const { done } = ShardRun.run(shard(1), { index: 2, count: 2 }, new RealScheduler(), {
    note: (l) => notes.push(l),
  });
  const got = await done.catch((e: unknown) => e);
  // Before, the shard booted its nodes beside the other run's.
  expect(got).toBeInstanceOf(FleetIdsInUseError);
  expect((got as Error).message).toContain(
    `1 of this shard's 2 node ids are claimed on ${broker.url} (prefix tf: n-0001) by another run starting at the same time, and stayed claimed for 2.5 s`,
  );
  expect(notes.filter((l) => l.includes("registered"))).toEqual([]);
}, 30_000);

it("a shard whose ids are claimed by no one else claims them, and its claim goes when it ends", async () => {
  const claims: [string, string][] = [];
  other.on("message", (topic, payload) => claims.push([topic, payload.toString()]));
  await other.subscribeAsync("tf/claim/+", { qos: 1 });
  const { run, done } = ShardRun.run(shard(1), { index: 1, count: 2 }, new RealScheduler(), {
    note: (l) => {
      if (l.includes("registered")) run.stop();
    },
  });
  const report = await done;
  expect(report.nodes).toEqual(["n-0000", "n-0002"]);
  const mine = () => claims.filter(([t]) => t !== claimTopic(Prefix("tf"), "other")).map(([, p]) => p);
  // Its claim named its own ids, and was cleared at its end (the clear reaches this other client
  // on its own time: the shard's end waits for the broker's PUBACK, not for the deliveries).
  await expect.poll(() => mine().length, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
  expect(mine()).toEqual([JSON.stringify({ ids: ["n-0000", "n-0002"] }), ""]);
}, 30_000);

it("a stop while the shard waits for another run's claim to go ends the wait there", async () => {
  const { run, done } = ShardRun.run(shard(15), { index: 2, count: 2 }, new RealScheduler(), {
    note: (l) => {
      if (l.includes("claimed by another run starting")) run.stop("SIGINT");
    },
  });
  const got = await done.catch((e: unknown) => e);
  expect(got).toBeInstanceOf(FleetStartStoppedError);
  expect((got as FleetStartStoppedError).reason).toBe("SIGINT");
}, 30_000);
