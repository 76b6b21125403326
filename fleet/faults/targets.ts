/**
 * What the faults act on in a fleet run: the broker host, the node shards (power, cables, loss), the
 * twins host, and frozen clients opened on the broker. FaultRunner sees only this interface.
 */
import type { Scheduler } from "../../node/scheduler.js";
import type { NodeId } from "../../protocol/index.js";
import type { ShardHost } from "../../sim/messages.js";
import type { BrokerHost } from "../broker-host.js";
import { FrozenClient } from "./frozen-client.js";
import { describeFault, type FaultRecord, FaultRunner, type FaultTargets } from "./runner.js";

export interface FleetTargetParts {
  readonly ids: readonly NodeId[];
  readonly seed: string;
  readonly prefix: string;
  readonly broker: BrokerHost;
  readonly pool: ShardHost;
  /** The run's twins service, to kill and restart; none in a virtual run without twins. */
  readonly twins: { kill(): Promise<void>; restart(): Promise<void> } | undefined;
  readonly lossPct: () => number;
  readonly setLoss: (pct: number) => void;
  /** The run's clock, for when a frozen client was cut off. */
  readonly now: () => number;
}

const noTwins = () => Promise.reject(new Error("this virtual-time run has no twins service (twins: false)"));

/** Who hears of a fault as it starts and ends: the run, which tells its watchers. */
interface FaultWatcher {
  emit(event: "log", text: string, level: "info" | "error"): boolean;
  emit(event: "fault-start" | "fault-end", f: FaultRecord): boolean;
}

/** The run's fault runner on its scheduler, each fault's start and end logged and passed on. */
export function fleetFaultRunner(sched: Scheduler, p: FleetTargetParts, run: FaultWatcher): FaultRunner {
  const faults = new FaultRunner(sched, fleetFaultTargets(p));
  faults.on("start", (f) => {
    run.emit("log", `fault: ${describeFault(f)} started`, "info");
    run.emit("fault-start", f);
  });
  faults.on("end", (f) => {
    if (f.error) run.emit("log", `fault: ${f.kind} failed: ${f.error}`, "error");
    else run.emit("log", `fault: ${f.kind} ended`, "info");
    run.emit("fault-end", f);
  });
  return faults;
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
    killTwins: () => p.twins?.kill() ?? noTwins(),
    startTwins: () => p.twins?.restart() ?? noTwins(),
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
