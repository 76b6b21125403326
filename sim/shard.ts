/**
 * One shard of a fleet's simulated nodes on one scheduler and one wire: boots them at their slots,
 * carries out the run's controls (loss, presses, power, cables), answers for a node's detail, and at
 * the end stops the nodes and sums up their final state. A worker thread runs one on wall time
 * (sim/worker.ts); a virtual-time fleet runs one on a FakeScheduler beside the in-memory broker
 * (sim/virtual-shards.ts).
 */
import { addDrops, type NodeEvent } from "../node/metrics.js";
import type { Scheduler, Timer } from "../node/scheduler.js";
import { SimNode } from "../node/sim-node.js";
import type { WireFactory } from "../node/wire.js";
import { assertNever, DROP_REASONS, type NodeId } from "../protocol/index.js";
import {
  type LinkTotals,
  type NodeFinal,
  noLinkTotals,
  type ShardControl,
  type ShardTask,
  type SimNodeDetail,
} from "./messages.js";

/** What a shard needs of its task: everything but where the broker is and how to talk back. */
export type ShardSetup = Omit<
  ShardTask,
  "port" | "brokerHost" | "brokerPort" | "brokerAddresses" | "timeOrigin"
>;

/** The controls a shard carries out itself (detail and finish are answered by whoever hosts it). */
export type NodeControl = Exclude<ShardControl, { type: "detail" } | { type: "finish" }>;

export class Shard {
  readonly nodes = new Map<NodeId, SimNode>();
  private readonly plans: Timer[] = [];

  constructor(
    private readonly task: ShardSetup,
    sched: Scheduler,
    wire: WireFactory,
    sink: (e: NodeEvent) => void,
  ) {
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
      this.nodes.set(id, node);
      node.start(task.bootAt[i] ?? sched.now());
    });
  }

  control(m: NodeControl): void {
    const nodes = this.nodes;
    switch (m.type) {
      case "set-loss":
        for (const n of nodes.values()) n.setLoss(m.loss);
        break;
      case "start-presses": {
        const rate = this.task.pressRatePerSec;
        if (rate) {
          const plan = { kind: "poisson", ratePerSec: rate, from: m.from, until: m.until } as const;
          for (const n of nodes.values()) this.plans.push(n.addPresses(plan));
        }
        break;
      }
      case "stop-presses":
        for (const p of this.plans) p.cancel();
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
      default:
        assertNever(m);
    }
  }

  detail(id: NodeId): SimNodeDetail | undefined {
    const n = this.nodes.get(id);
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
        dropped: DROP_REASONS.reduce((n, r) => n + (r === "stale" ? 0 : (s.mqtt.drops[r] ?? 0)), 0),
      },
      connected: n.connected,
    };
  }

  /** Each node's final state and the link totals; then the nodes stop. */
  finish(): { nodes: NodeFinal[]; link: LinkTotals } {
    const finals: NodeFinal[] = [];
    const link = noLinkTotals();
    for (const [id, n] of this.nodes) {
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
      link.disconnects += s.mqtt.disconnects;
      link.keepaliveTimeouts += s.mqtt.keepaliveTimeouts;
      link.closedByBroker += s.mqtt.closedByBroker;
      link.closedByNode += s.mqtt.closedByNode;
      link.tcpTimeouts += s.mqtt.tcpTimeouts;
      link.powerCuts += s.mqtt.powerCuts;
      link.reconnects += s.mqtt.reconnects;
      link.oversizedDropped += s.mqtt.oversizedDropped;
      addDrops(link.drops, s.mqtt.drops);
    }
    for (const n of this.nodes.values()) n.stop();
    return { nodes: finals, link };
  }
}
