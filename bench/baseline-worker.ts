/**
 * A worker thread of the overhead benchmark's baseline: plain clients for a share of the ids, synced,
 * then pressed on the benchmark's signal; returns the stamps they recorded.
 */
import { ClientShard, type ShardControl, type ShardTask, type StampRecord } from "./baseline.js";

const TAIL_MS = 5000;

export default async function runShard(task: ShardTask): Promise<StampRecord[]> {
  const shard = new ClientShard(task.url, task.ids, performance.timeOrigin - task.timeOrigin);
  await shard.start();
  const go = new Promise<ShardControl>((r) => task.port.once("message", r));
  task.port.postMessage("synced");
  const c = await go;
  shard.pressFor(c.durationS, c.ratePerNodePerMin, c.seed);
  await new Promise((r) => setTimeout(r, c.durationS * 1000 + TAIL_MS));
  await shard.stop();
  task.port.close();
  return shard.records;
}
