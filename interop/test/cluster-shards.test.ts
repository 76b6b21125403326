// One fleet split over processes on a 3-member NATS cluster, as the shard benchmark runs it at scale:
// three `twinfleet sim --shard K/3` processes, shard K on member K, rings of 8 whose pairs cross
// shards and members, then `twinfleet report merge`. The merged presses and deliveries are the
// shards' sums, every press reached its whole ring (nothing lost), p99 under 1 s (or, on a busy
// host, under three times the run's echo p99), and every shard ran the same fleet (interop/test/shards.ts).
import { afterAll, beforeAll, describe, it } from "vitest";
import { type NatsCluster, startCluster } from "../cluster.js";
import { shardsMergeIntoOneFleet } from "./shards.js";

let cluster: NatsCluster;
beforeAll(async () => {
  cluster = await startCluster({ members: 3 });
});
afterAll(async () => {
  await cluster?.close();
});

describe("shards on the members of a NATS cluster", () => {
  it("merge into one fleet: the shards' sums, nothing lost, pairs across members", async () => {
    await shardsMergeIntoOneFleet(cluster.urls, "cluster-shards");
  }, 120_000);
});
