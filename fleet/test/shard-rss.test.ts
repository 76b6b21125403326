/**
 * A shard whose resident memory cannot be read at its end (the open-files limit: Node reads it from
 * /proc/self/stat) still writes its report, without `sim.rssMB`; the merge's total is then unknown
 * (null), as a one-process run's is. Before, the read threw EMFILE and the shard crashed after its run.
 */
import { pino } from "pino";
import { afterEach, beforeEach, expect, it } from "vitest";
import { RealScheduler } from "../../node/scheduler.js";
import { type BrokerHost, openBrokerHost } from "../broker-host.js";
import { mergeShards } from "../shard-merge.js";
import { ShardRun } from "../shard-run.js";
import { idleShard } from "./idle-shard.js";
import { fleetOfTwo } from "./ring-of-four.js";

let broker: BrokerHost;
beforeEach(async () => {
  broker = await openBrokerHost({ logger: pino({ level: "silent" }), scheduler: new RealScheduler() });
});
afterEach(async () => {
  await broker.close();
});

/** process.memoryUsage.rss() at the open-files limit. */
function emfile(): number {
  throw Object.assign(new Error("EMFILE: too many open files, uv_resident_set_memory"), {
    code: "EMFILE",
    syscall: "uv_resident_set_memory",
  });
}

it("writes a shard's report without its resident memory when it cannot be read", async () => {
  const options = { ...idleShard(broker.url, 15), durationS: 1, settleS: 0 };
  const { done } = ShardRun.run(options, { index: 1, count: 1 }, new RealScheduler(), { rss: emfile });
  const file = await done;
  expect(file.cutShort).toBe(false);
  expect(file.sim).not.toHaveProperty("rssMB");
  expect(file.sim.workers).toBe(1);
}, 60_000);

it("reads it when it can", async () => {
  const options = { ...idleShard(broker.url, 15), durationS: 1, settleS: 0 };
  const { done } = ShardRun.run(options, { index: 1, count: 1 }, new RealScheduler(), {
    rss: () => 150 * 2 ** 20,
  });
  expect((await done).sim.rssMB).toBe(150);
}, 60_000);

it("merges a shard without its resident memory as an unknown total, not a smaller one", () => {
  const [s1, s2] = fleetOfTwo();
  expect(mergeShards(["a", "b"], [s1, s2]).sim.rssMB).toBe(200);
  const { rssMB: _, ...sim } = s2.sim;
  expect(mergeShards(["a", "b"], [s1, { ...s2, sim }]).sim.rssMB).toBeNull();
});
