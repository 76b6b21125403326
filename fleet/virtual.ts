/**
 * A fleet run on virtual time (`clock: "virtual"`): the nodes, the in-memory broker, the twins
 * service, the checker, the fault schedule and the run's own phases all on one FakeScheduler, driven
 * by `VirtualClock` (virtual-clock.ts) as fast as the CPU allows or at a watching console's pace. A
 * run is the same for the same seed. `prepareVirtualFleet` is setup.ts's counterpart: the twins
 * service connects to the in-memory broker over an in-process wire and desires the pairing before the
 * nodes boot, as in a real run; without twins (`twins: false`) the broker's traffic stands in for
 * their registration view and the pairing is written as retained configs.
 */
import type { Logger } from "pino";
import { type Scheduler, sleep } from "../node/scheduler.js";
import { encode, type NodeId, Prefix } from "../protocol/index.js";
import { BrokerRegistry } from "../sim/broker-registry.js";
import { MemoryBroker } from "../sim/memory-broker.js";
import type { ShardHost, ShardReport } from "../sim/messages.js";
import type { Pairing } from "../sim/topology.js";
import { VirtualShards } from "../sim/virtual-shards.js";
import { DEFAULT_MAX_NODES, type StoredState, startTwins, type TwinsStore } from "../twins/index.js";
import type { BrokerHost } from "./broker-host.js";
import type { ResolvedFleetOptions } from "./options.js";
import { brokerSource, twinsSource } from "./registrations.js";
import { desirePairing, type FleetParts, planFleet } from "./setup.js";
import { TwinsHost } from "./twins-host.js";
import { VirtualClock } from "./virtual-clock.js";

/** How long a save of the twins' store takes on virtual time (its JSON file written and synced), ms. */
const STORE_WRITE_MS = 100;

export { type Pace, type Speed, VirtualClock } from "./virtual-clock.js";

export type FleetPlan = ReturnType<typeof planFleet>;

export interface VirtualParts extends FleetParts {
  readonly memory: MemoryBroker;
}

/** Everything a virtual run needs before its nodes boot; `opts` has been through resolveFleetOptions. */
export async function prepareVirtualFleet(
  opts: ResolvedFleetOptions,
  clock: VirtualClock,
  logger: Logger,
  /** The nodes to run, when not the whole fleet of `opts` (one part of it: fleet/virtual-part.ts). */
  plan: FleetPlan = planFleet(opts),
): Promise<VirtualParts> {
  const { profile, ids, pairing } = plan;
  const prefix = Prefix(opts.prefix);
  const memory = new MemoryBroker(clock.fake, {
    record: false,
    sessions: true,
    forwardDelayMs: profile.network.brokerForwardMs,
  });
  const broker: BrokerHost = {
    kind: "memory",
    url: "memory://in-process",
    restartable: true,
    kill: async () => memory.kill(),
    start: async () => memory.restart(),
    rssMB: () => undefined,
    close: async () => {},
  };
  const common = { profile, ids, pairing, faults: opts.faults, broker, memory };
  if (!opts.twins) {
    writeConfigs(memory, prefix, ids, pairing);
    return { ...common, source: brokerSource(new BrokerRegistry(memory, prefix), memory, prefix) };
  }
  // The twins service of a real run, on the run's clock and the in-memory broker's wire; its client
  // id is fixed (a random one would be the only thing differing between two runs of one seed).
  const store = virtualStore(clock.sched);
  const started = TwinsHost.start((created, again) =>
    startTwins(
      {
        url: broker.url,
        wire: clock.markingWire(memory.wire()),
        prefix,
        logger,
        scheduler: clock.sched,
        store,
        clientId: `${prefix.replaceAll("/", "-")}-twins`,
        maxNodes: Math.max(DEFAULT_MAX_NODES, 2 * opts.nodes),
        // Started again (a twins-restart) while the broker is away (a broker-restart), it waits for
        // it, as on real time, instead of failing the fault and leaving the run without twins.
        ...(again ? { waitForBroker: true } : {}),
      },
      created,
    ),
  );
  await clock.drive(started);
  const twins = await started;
  try {
    const paired = desirePairing(twins, ids, pairing);
    await clock.drive(paired);
    await paired;
  } catch (e) {
    await twins.kill();
    throw e;
  }
  return { ...common, twins, source: twinsSource(twins) };
}

/**
 * The twins' store on virtual time: in memory, each save taking STORE_WRITE_MS of the run's clock as
 * a write to disk would. The service coalesces the changes made during a save into one more, so
 * desiring a large fleet's pairing costs a save per write time, not one per node. A save keeps the
 * snapshot it is given (the service builds a fresh one each time); a load hands out a copy.
 */
function virtualStore(sched: Scheduler): TwinsStore {
  let state: StoredState = { nodes: {} };
  return {
    load: async () => structuredClone(state),
    save: async (s) => {
      state = s;
      await sleep(sched, STORE_WRITE_MS);
    },
    close: async () => {},
  };
}

/** Without a twins service: each node's pairing as its retained config, as the service would write it. */
function writeConfigs(memory: MemoryBroker, prefix: Prefix, ids: readonly NodeId[], pairing: Pairing): void {
  for (const id of ids) {
    const sources = pairing.get(id) ?? [];
    if (sources.length === 0) continue;
    const e = encode(prefix, { kind: "config", node: id, version: 1, sources: [...sources] });
    memory.publish(e.topic, e.payload, { retain: true });
  }
}

/** A virtual run's clock, parts and shard host, ready for FleetRun to launch the nodes. */
export async function startVirtual(
  opts: ResolvedFleetOptions,
  scheduler: Scheduler,
  logger: Logger,
  onShard: (r: ShardReport) => void,
): Promise<{ parts: VirtualParts; pool: ShardHost; clock: VirtualClock }> {
  const clock = new VirtualClock(scheduler.wallNow());
  const parts = await prepareVirtualFleet(opts, clock, logger);
  return { parts, pool: new VirtualShards(clock.fake, parts.memory, onShard), clock };
}
