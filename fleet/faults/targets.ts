/**
 * What the faults act on in a fleet run: the broker host, the node shards (power, cables, loss), the
 * twins host, and frozen clients opened on the broker. FaultRunner sees only this interface.
 */
import type { NodeId } from "../../protocol/index.js";
import type { ShardHost } from "../../sim/messages.js";
import type { BrokerHost } from "../broker-host.js";
import { FrozenClient } from "./frozen-client.js";
import type { FaultTargets } from "./runner.js";

export interface FleetTargetParts {
  readonly ids: readonly NodeId[];
  readonly seed: string;
  readonly prefix: string;
  readonly broker: BrokerHost;
  readonly pool: ShardHost;
  /** Kills and restarts the run's twins service. */
  readonly twins: { kill(): Promise<void>; restart(): Promise<void> };
  readonly lossPct: () => number;
  readonly setLoss: (pct: number) => void;
  /** The run's clock, for when a frozen client was cut off. */
  readonly now: () => number;
}

export function fleetFaultTargets(p: FleetTargetParts): FaultTargets {
  let frozen = 0;
  return {
    ids: p.ids,
    seed: p.seed,
    killBroker: () => p.broker.kill(),
    startBroker: () => p.broker.start(),
    power: (ids, on) => p.pool.sendMany(ids, (share) => ({ type: "power", ids: share, on })),
    cables: (ids, pulled) => p.pool.sendMany(ids, (share) => ({ type: "cable", ids: share, pulled })),
    lossPct: p.lossPct,
    setLoss: p.setLoss,
    killTwins: () => p.twins.kill(),
    startTwins: () => p.twins.restart(),
    freezeClient: async (topic) => {
      const { hostname, port } = new URL(p.broker.url);
      const client = await FrozenClient.open({
        host: hostname,
        port: Number(port || 1883),
        clientId: `${p.prefix}-frozen-${frozen++}`,
        topic: topic ?? `${p.prefix}/#`,
        now: p.now,
      });
      return () => {
        client.close();
        return client.cutAt;
      };
    },
  };
}
