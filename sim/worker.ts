/**
 * A worker thread of the fleet: runs one shard of simulated nodes on wall time, batches their events
 * to the main thread, obeys controls, and on `finish` stops the nodes and returns their final state.
 */

import { monitorEventLoopDelay } from "node:perf_hooks";
import type { NodeEvent } from "../node/metrics.js";
import type { Timer } from "../node/scheduler.js";
import { every, RealScheduler } from "../node/scheduler.js";
import { SimNode } from "../node/sim-node.js";
import { tcpWire } from "../node/wire.js";
import type { NodeId } from "../protocol/index.js";
import { assertNever } from "../protocol/index.js";
import type {
  LinkTotals,
  NodeFinal,
  ShardControl,
  ShardReport,
  ShardResult,
  ShardTask,
  SimNodeDetail,
} from "./messages.js";

const FLUSH_MS = 50;
const LAG_EVERY_MS = 1000;

export default async function runShard(task: ShardTask): Promise<ShardResult> {
  // One clock for the whole fleet: the run's scheduler, followed from its zero.
  const sched = RealScheduler.zeroAt(task.timeOrigin);
  const port = task.port;
  const post = (m: ShardReport) => port.postMessage(m);
  let batch: NodeEvent[] = [];
  const sink = (e: NodeEvent) => {
    batch.push(e);
  };
  const wire = tcpWire(task.brokerHost, task.brokerPort);
  const nodes = new Map<NodeId, SimNode>();
  task.ids.forEach((id, i) => {
    const node = new SimNode({
      id,
      prefix: task.prefix,
      seed: task.seed,
      loss: task.loss,
      profile: task.profile,
      sched,
      wire,
      sink,
      ...(task.nodePassword !== undefined ? { username: id, password: task.nodePassword } : {}),
    });
    nodes.set(id, node);
    node.start(task.bootAt[i] ?? sched.now());
  });
  const plans: Timer[] = [];

  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const flush = every(sched, FLUSH_MS, () => {
    if (batch.length === 0) return;
    post({ type: "events", shard: task.shard, events: batch });
    batch = [];
  });
  const lagTimer = every(sched, LAG_EVERY_MS, () => {
    post({ type: "lag", shard: task.shard, p99Ms: lag.percentile(99) / 1e6, maxMs: lag.max / 1e6 });
  });

  const detail = (id: NodeId): SimNodeDetail | undefined => {
    const n = nodes.get(id);
    if (!n) return undefined;
    const s = n.stats();
    return {
      id,
      cpuPct: s.cpu.utilization * 100,
      ramBytes: s.ram.usedBytes,
      sramBytes: s.ram.sramBytes,
      link: {
        retransmissions: s.link.up.retransmissions + s.link.down.retransmissions,
        timeouts: s.link.timeouts,
        reconnects: s.mqtt.reconnects,
      },
      connected: n.connected,
    };
  };

  await new Promise<void>((resolve) => {
    port.on("message", (m: ShardControl) => {
      try {
        switch (m.type) {
          case "set-loss":
            for (const n of nodes.values()) n.setLoss(m.loss);
            break;
          case "start-presses":
            if (task.pressRatePerSec) {
              const plan = {
                kind: "poisson",
                ratePerSec: task.pressRatePerSec,
                from: m.from,
                until: m.until,
              } as const;
              for (const n of nodes.values()) plans.push(n.addPresses(plan));
            }
            break;
          case "stop-presses":
            for (const p of plans) p.cancel();
            break;
          case "press":
            nodes.get(m.id)?.press();
            break;
          case "power-cycle":
            nodes.get(m.id)?.powerCycle(m.offMs);
            break;
          case "power":
            for (const id of m.ids) {
              const n = nodes.get(id);
              if (m.on) n?.start();
              else n?.powerOff();
            }
            break;
          case "cable":
            for (const id of m.ids) {
              if (m.pulled) nodes.get(id)?.pullCable();
              else nodes.get(id)?.plugCable();
            }
            break;
          case "detail":
            post({ type: "detail", requestId: m.requestId, detail: detail(m.id) });
            break;
          case "finish":
            resolve();
            break;
          default:
            assertNever(m);
        }
      } catch (e) {
        post({ type: "error", shard: task.shard, message: e instanceof Error ? e.message : String(e) });
      }
    });
  });

  const finals: NodeFinal[] = [];
  const link: LinkTotals = {
    segments: 0,
    retransmissions: 0,
    timeouts: 0,
    reconnects: 0,
    oversizedDropped: 0,
  };
  for (const [id, n] of nodes) {
    const s = n.stats();
    const st = n.state;
    finals.push({
      id,
      on: st.on,
      stamp: st.stamp,
      sources: [...st.sources],
      cpuPct: s.cpu.utilization * 100,
      synced: st.phase === "synced",
    });
    link.segments += s.link.up.segments + s.link.down.segments;
    link.retransmissions += s.link.up.retransmissions + s.link.down.retransmissions;
    link.timeouts += s.link.timeouts;
    link.reconnects += s.mqtt.reconnects;
    link.oversizedDropped += s.mqtt.oversizedDropped;
  }
  for (const n of nodes.values()) n.stop();
  flush.cancel();
  lagTimer.cancel();
  if (batch.length > 0) post({ type: "events", shard: task.shard, events: batch });
  lag.disable();
  const result: ShardResult = {
    shard: task.shard,
    nodes: finals,
    link,
    lagP99Ms: lag.percentile(99) / 1e6,
    lagMaxMs: lag.max / 1e6,
  };
  port.close();
  return result;
}
