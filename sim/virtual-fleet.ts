/**
 * A fleet on virtual time: the same simulated nodes, pairing, seed and press rate as a fleet run,
 * on a FakeScheduler with the in-memory broker (no broker delay, no host). What it measures is the
 * model's own sync latency — what a fleet run on wall time would report on an infinitely fast host.
 */
import type { NodeEvent } from "../node/metrics.js";
import { FakeScheduler } from "../node/scheduler.js";
import { SimNode } from "../node/sim-node.js";
import { SyncChecker } from "./checker.js";
import type { Summary } from "./histogram.js";
import { MemoryBroker } from "./memory-broker.js";
import { buildPairing, fleetIds, followersReach } from "./topology.js";

/** Rings of `groupSize` nodes with seeded Poisson presses at a rate, for a duration. */
export interface RingFleet {
  readonly nodes: number;
  readonly profile: string;
  readonly groupSize: number;
  readonly ratePerNodePerMin: number;
  readonly durationS: number;
  readonly seed: string;
}

export interface VirtualFleetResult {
  readonly synced: number;
  readonly presses: number;
  readonly deliveries: number;
  readonly lost: number;
  readonly sync: Summary;
}

/** Boot spread and settle as in a fleet run: everyone synced before the first press. */
const BOOT_SPREAD_MS = 2;
const PRESSES_FROM_MS = 30_000;
const SETTLE_MS = 6_000;

export function runVirtualFleet(o: RingFleet): VirtualFleetResult {
  const sched = new FakeScheduler();
  const broker = new MemoryBroker(sched);
  const ids = fleetIds(o.nodes);
  const pairing = buildPairing(ids, { kind: "ring", groupSize: o.groupSize, seed: o.seed });
  for (const [f, sources] of pairing) {
    broker.publish(`tf/config/${f}`, `C1 1 ${sources.join(" ")}`, { retain: true });
  }
  const tracker = new SyncChecker(followersReach(pairing));
  let synced = 0;
  const sink = (e: NodeEvent) => {
    if (e.type === "press" && e.stamp) tracker.press({ node: e.node, stamp: e.stamp, at: e.at });
    else if (e.type === "applied") tracker.applied({ node: e.node, stamp: e.stamp, at: e.at });
    else if (e.type === "synced") synced++;
  };
  const nodes = ids.map(
    (id) => new SimNode({ id, seed: o.seed, profile: o.profile, sched, wire: broker.wire(), sink }),
  );
  nodes.forEach((n, i) => {
    n.start(i * BOOT_SPREAD_MS);
  });
  sched.runUntil(PRESSES_FROM_MS);
  const until = PRESSES_FROM_MS + o.durationS * 1000;
  for (const n of nodes) {
    n.addPresses({ kind: "poisson", ratePerSec: o.ratePerNodePerMin / 60, from: PRESSES_FROM_MS, until });
  }
  sched.runUntil(until + SETTLE_MS);
  tracker.finish();
  for (const n of nodes) n.stop();
  const c = tracker.counts();
  return {
    synced,
    presses: c.presses,
    deliveries: c.deliveries,
    lost: c.lost,
    sync: tracker.latency.summary(),
  };
}
