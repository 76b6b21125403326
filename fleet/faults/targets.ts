/**
 * What the faults act on in a fleet run: the broker host, the node shards (power, cables, loss), the
 * twins host, and frozen clients opened on the broker. FaultRunner sees only this interface.
 */
import { type Scheduler, sleep } from "../../node/scheduler.js";
import type { NodeId } from "../../protocol/index.js";
import type { ShardHost } from "../../sim/messages.js";
import { brokerSocket } from "../broker-address.js";
import type { BrokerHost } from "../broker-host.js";
import { FrozenClient, type FrozenClientOptions, unreachable } from "./frozen-client.js";
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
}

const noTwins = () => Promise.reject(new Error("this virtual-time run has no twins service (twins: false)"));

/** Who hears of a fault as it starts and ends: the run, which tells its watchers. */
interface FaultWatcher {
  emit(event: "log", text: string, level: "info" | "error"): boolean;
  emit(event: "fault-start" | "fault-end", f: FaultRecord): boolean;
}

/** The run's fault runner on its scheduler, each fault's start and end logged and passed on. */
export function fleetFaultRunner(sched: Scheduler, p: FleetTargetParts, run: FaultWatcher): FaultRunner {
  const faults = new FaultRunner(sched, fleetFaultTargets(p, sched));
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

/** The run's parts as fault targets; `sched` is the run's clock (a frozen client's cut, its retries). */
export function fleetFaultTargets(p: FleetTargetParts, sched: Scheduler): FaultTargets {
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
    freezeClient: async (topic, ended) => {
      const options = {
        ...brokerSocket(p.broker.url),
        clientId: `${p.prefix}-frozen-${frozen++}`,
        topic: topic ?? `${p.prefix}/#`,
        now: () => sched.now(),
      };
      const client = await openOnceReachable(options, sched, ended);
      return () => {
        client.close();
        return client.cutAt;
      };
    },
  };
}

/** How often a frozen client whose broker is not reachable tries again (MQTT.js's reconnect period). */
export const FROZEN_RETRY_MS = 1000;

/**
 * Opens a frozen client, trying again every FROZEN_RETRY_MS while the broker is not reachable (a
 * restart in progress): a hung tool that reconnects by itself freezes once the broker is back. Gives
 * up when the fault's time is up, saying so; any other failure (a refused login) at once.
 */
async function openOnceReachable(
  o: FrozenClientOptions,
  sched: Scheduler,
  ended: AbortSignal,
): Promise<FrozenClient> {
  const since = sched.now();
  for (;;) {
    try {
      return await FrozenClient.open(o);
    } catch (err) {
      if (!unreachable(err)) throw err;
      await sleep(sched, FROZEN_RETRY_MS);
      if (ended.aborted) {
        const s = ((sched.now() - since) / 1000).toFixed(1);
        throw new Error(`${(err as Error).message}: the broker was not reachable in the fault's ${s} s`);
      }
    }
  }
}
