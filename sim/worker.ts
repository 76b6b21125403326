/**
 * A worker thread of the fleet: runs one shard of simulated nodes on wall time, batches their events
 * to the main thread, obeys controls, and on `finish` stops the nodes and returns their final state.
 * The nodes reach the broker over TCP, or over the task's in-memory port to a broker thread.
 */

import { monitorEventLoopDelay } from "node:perf_hooks";
import { HeapLive } from "../node/heap-live.js";
import type { NodeEvent } from "../node/metrics.js";
import { portWire } from "../node/port-wire.js";
import { RecentLag } from "../node/recent-lag.js";
import { every, RealScheduler } from "../node/scheduler.js";
import { tcpWire } from "../node/wire.js";
import type { ShardControl, ShardPortMessage, ShardResult, ShardTask } from "./messages.js";
import { Shard } from "./shard.js";

const FLUSH_MS = 50;
const LAG_EVERY_MS = 1000;

export default async function runShard(task: ShardTask): Promise<ShardResult> {
  // One clock for the whole fleet: the run's scheduler, followed from its zero.
  const sched = RealScheduler.zeroAt(task.timeOrigin);
  const port = task.port;
  const post = (m: ShardPortMessage) => port.postMessage(m);
  let batch: NodeEvent[] = [];
  const sink = (e: NodeEvent) => {
    batch.push(e);
  };
  const wire = task.brokerLink
    ? portWire(task.brokerLink, (err) =>
        post({ type: "error", shard: task.shard, message: `broker transport: ${err.message}` }),
      )
    : tcpWire(task.brokerHost, task.brokerPort, task.brokerAddresses);
  const shard = new Shard(task, sched, wire, sink);

  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const recentLag = new RecentLag();
  const heap = new HeapLive();
  const flush = every(sched, FLUSH_MS, () => {
    if (batch.length === 0) return;
    post({ type: "events", shard: task.shard, events: batch });
    batch = [];
  });
  const lagTimer = every(sched, LAG_EVERY_MS, () => {
    post({
      type: "lag",
      shard: task.shard,
      p99Ms: lag.percentile(99) / 1e6,
      maxMs: lag.max / 1e6,
      recentP99Ms: recentLag.takeP99Ms(),
      heap: heap.read(),
    });
  });

  await new Promise<void>((resolve) => {
    port.on("message", (m: ShardControl) => {
      try {
        if (m.type === "detail") post({ type: "detail", requestId: m.requestId, detail: shard.detail(m.id) });
        else if (m.type === "finish") resolve();
        else shard.control(m);
      } catch (e) {
        post({ type: "error", shard: task.shard, message: e instanceof Error ? e.message : String(e) });
      }
    });
  });

  const { nodes, link } = shard.finish();
  flush.cancel();
  lagTimer.cancel();
  if (batch.length > 0) post({ type: "events", shard: task.shard, events: batch });
  post({ type: "done", shard: task.shard });
  lag.disable();
  recentLag.stop();
  heap.stop();
  const result: ShardResult = {
    shard: task.shard,
    nodes,
    link,
    lagP99Ms: lag.percentile(99) / 1e6,
    lagMaxMs: lag.max / 1e6,
  };
  port.close();
  task.brokerLink?.close();
  return result;
}
