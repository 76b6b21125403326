/**
 * Shared set-up for fake-time node tests: a FakeScheduler, an in-memory broker and nodes on them,
 * with every event recorded.
 */

import type { NodeEvent } from "../../../node/metrics.js";
import { type DeviceProfile, loadProfile } from "../../../node/profile.js";
import { FakeScheduler } from "../../../node/scheduler.js";
import { SimNode, type SimNodeConfig } from "../../../node/sim-node.js";
import { MemoryBroker } from "../../memory-broker.js";

export const UNO: DeviceProfile = loadProfile("uno-w5100");

export interface Rig {
  readonly sched: FakeScheduler;
  readonly broker: MemoryBroker;
  readonly events: NodeEvent[];
  node(id: string, extra?: Partial<SimNodeConfig> & { profile?: DeviceProfile }): SimNode;
  of<T extends NodeEvent["type"]>(type: T, node?: string): Extract<NodeEvent, { type: T }>[];
}

export function rig(): Rig {
  const sched = new FakeScheduler();
  const broker = new MemoryBroker(sched);
  const events: NodeEvent[] = [];
  return {
    sched,
    broker,
    events,
    node: (id, extra = {}) => {
      const { profile, ...rest } = extra;
      return new SimNode({
        id,
        seed: "test",
        ...rest,
        profile: profile ?? UNO,
        sched,
        wire: broker.wire(),
        sink: (e) => events.push(e),
      });
    },
    of: <T extends NodeEvent["type"]>(type: T, node?: string) =>
      events.filter(
        (e): e is Extract<NodeEvent, { type: T }> =>
          e.type === type && (node === undefined || e.node === node),
      ),
  };
}

/** Milliseconds that `cycles` take on the profile's CPU. */
export const ms = (p: DeviceProfile, cycles: number): number => (cycles / p.mcu.clockHz) * 1000;
