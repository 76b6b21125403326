/**
 * A fleet run on virtual time (`clock: "virtual"`): the nodes, the in-memory broker, the checker,
 * the fault schedule and the run's own phases all on one FakeScheduler, run as fast as the CPU
 * allows. `VirtualClock` drives it: it runs the timers in order and, after each of the run's own
 * (its phases, waits, faults, metrics — not the nodes'), lets the host run the promise continuations
 * they resolved, so the run's async lifecycle reads the same on both clocks. Nothing here reads the
 * host's clock but the speed-up shown on progress lines; a run is the same for the same seed.
 * `prepareVirtualFleet` is setup.ts's counterpart: no twins service (the broker's traffic stands in
 * for its registration view), the pairing written as retained configs before the nodes boot.
 */
import { FakeScheduler, hostTurn, RealScheduler, type Scheduler, type Timer } from "../node/scheduler.js";
import { encode, Prefix } from "../protocol/index.js";
import { BrokerRegistry } from "../sim/broker-registry.js";
import { MemoryBroker } from "../sim/memory-broker.js";
import type { ShardHost, ShardReport } from "../sim/messages.js";
import { VirtualShards } from "../sim/virtual-shards.js";
import type { BrokerHost } from "./broker-host.js";
import type { ResolvedFleetOptions } from "./options.js";
import { brokerSource } from "./registrations.js";
import { type FleetParts, planFleet } from "./setup.js";

/** Host turns in a row with no timer left and the run not over before it counts as stuck. */
const IDLE_TURNS_MAX = 10_000;

export class VirtualClock {
  readonly fake: FakeScheduler;
  /** The run's own scheduler: the fake one, marking each of its callbacks for the driver. */
  readonly sched: Scheduler;
  private marked = false;
  private readonly wall = new RealScheduler();
  private readonly wallStart = this.wall.now();

  /** `epochMs`: the date virtual time 0 stands for (only what is shown as a date uses it). */
  constructor(epochMs: number) {
    const fake = new FakeScheduler(0, epochMs);
    this.fake = fake;
    this.sched = {
      now: () => fake.now(),
      wallNow: () => fake.wallNow(),
      at: (atMs: number, fn: () => void): Timer =>
        fake.at(atMs, () => {
          this.marked = true;
          fn();
        }),
    };
  }

  /** Seconds of wall time since the clock was made. */
  wallElapsedS(): number {
    return (this.wall.now() - this.wallStart) / 1000;
  }

  /** Virtual seconds per wall second so far. */
  speedup(): number {
    const wall = this.wallElapsedS();
    return wall > 0 ? this.fake.now() / 1000 / wall : 0;
  }

  /** Runs virtual time until `done` settles; throws if nothing is left to run and it never does. */
  async drive(done: Promise<unknown>): Promise<void> {
    let over = false;
    done.then(
      () => {
        over = true;
      },
      () => {
        over = true;
      },
    );
    let idle = 0;
    while (!over) {
      this.marked = false;
      this.fake.runUntilStopped(() => this.marked);
      await hostTurn();
      if (over || this.fake.nextAt() !== undefined) idle = 0;
      else if (++idle > IDLE_TURNS_MAX) {
        throw new Error(`the virtual run has nothing left to run at ${this.fake.now().toFixed(1)} ms`);
      }
    }
  }
}

export interface VirtualParts extends FleetParts {
  readonly memory: MemoryBroker;
}

/** Everything a virtual run needs before its nodes boot; `opts` has been through resolveFleetOptions. */
export function prepareVirtualFleet(opts: ResolvedFleetOptions, clock: VirtualClock): VirtualParts {
  const { profile, ids, pairing } = planFleet(opts);
  const prefix = Prefix(opts.prefix);
  const memory = new MemoryBroker(clock.fake, {
    record: false,
    sessions: true,
    forwardDelayMs: profile.network.brokerForwardMs,
  });
  const registry = new BrokerRegistry(memory, prefix);
  // What the twins service does for a run of its own: each node's pairing as its retained config.
  for (const id of ids) {
    const sources = pairing.get(id) ?? [];
    if (sources.length === 0) continue;
    const e = encode(prefix, { kind: "config", node: id, version: 1, sources: [...sources] });
    memory.publish(e.topic, e.payload, { retain: true });
  }
  const broker: BrokerHost = {
    kind: "memory",
    url: "memory://in-process",
    restartable: true,
    kill: async () => memory.kill(),
    start: async () => memory.restart(),
    rssMB: () => undefined,
    close: async () => {},
  };
  return {
    profile,
    ids,
    pairing,
    faults: opts.faults,
    broker,
    source: brokerSource(registry, memory, prefix),
    memory,
  };
}

/** A virtual run's clock, parts and shard host, ready for FleetRun to launch the nodes. */
export function startVirtual(
  opts: ResolvedFleetOptions,
  scheduler: Scheduler,
  onShard: (r: ShardReport) => void,
): { parts: VirtualParts; pool: ShardHost; clock: VirtualClock } {
  const clock = new VirtualClock(scheduler.wallNow());
  const parts = prepareVirtualFleet(opts, clock);
  return { parts, pool: new VirtualShards(clock.fake, parts.memory, onShard), clock };
}
