/**
 * A worker thread of the overhead benchmark's baseline: plain clients for a share of the ids, synced,
 * then pressed on the benchmark's signal; returns the stamps they recorded.
 */
import { ClientShard, type ShardTask, type StampRecord, type StartPresses } from "./baseline.js";

export default async function runShard(task: ShardTask): Promise<StampRecord[]> {
  const shard = new ClientShard(task.url, task.ids, performance.timeOrigin - task.timeOrigin);
  await shard.start();
  const go = new Promise<StartPresses>((r) => task.port.once("message", r));
  task.port.postMessage("synced");
  const records = await shard.run(task, await go);
  task.port.close();
  return records;
}
