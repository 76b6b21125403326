/**
 * Overhead of the simulator: the `ideal` profile's sync latency against plain MQTT.js clients running
 * the same node core with the same pairing and rate, on the same embedded broker — both placed in the
 * broker's thread and in worker threads, so each comparison is like for like. Each round runs
 * every configuration once, one after another, so a host that gets slower or faster during the
 * benchmark moves them all; the figures are the medians over the rounds.
 *   npm run bench -- overhead [--nodes 500] [--duration 20] [--rate 6] [--rounds 3]
 */
import { startBroker } from "../broker/index.js";
import { DEFAULTS } from "../fleet/defaults.js";
import { type FleetOptions, resolveFleetOptions } from "../fleet/options.js";
import { runFleet } from "../fleet/run.js";
import { planFleet } from "../fleet/setup.js";
import type { NodeId } from "../protocol/index.js";
import type { Pairing } from "../sim/topology.js";
import { startTwins } from "../twins/index.js";
import { runBaseline } from "./baseline.js";
import { numArg, record } from "./record.js";
import { ringFleetOptions } from "./ring-fleet.js";

interface Figures {
  presses: number;
  deliveries: number;
  lost: number;
  p50Ms: number;
  p99Ms: number;
}

/** The configurations, in the order each round runs them. */
const BASELINES = {
  /** Plain clients in the broker's own thread, nothing else on the broker. */
  plain: { twins: false, inWorkers: false },
  /** The same with the twins service subscribed to every report, as in every fleet run. */
  plainTwins: { twins: true, inWorkers: false },
  /** Plain clients sharded over worker threads as a fleet run places its nodes, twins on. */
  workersTwins: { twins: true, inWorkers: true },
} as const;
/** The simulated fleet: in worker threads (the default), and in the broker's thread (`--workers 0`). */
const FLEETS = { ideal: "default", idealHere: 0 } as const;
type Config = keyof typeof BASELINES | keyof typeof FLEETS;

/** The baseline's clients: the fleet run's own node ids and pairing, so both sides draw the same presses. */
export function baselinePlan(fleetOpts: FleetOptions): { ids: readonly NodeId[]; pairing: Pairing } {
  const { ids, pairing } = planFleet(resolveFleetOptions(fleetOpts));
  return { ids, pairing };
}

export async function overhead(argv: string[]): Promise<void> {
  const nodes = numArg(argv, "--nodes", 500);
  const durationS = numArg(argv, "--duration", 20);
  const rate = numArg(argv, "--rate", 6);
  const rounds = numArg(argv, "--rounds", 3);
  const groupSize = 8;
  const seed = "overhead";
  const fleetOpts = ringFleetOptions({
    nodes,
    profile: "ideal",
    groupSize,
    ratePerNodePerMin: rate,
    durationS,
    seed,
  });
  const fleetWorkers = fleetOpts.workers ?? DEFAULTS.workers;
  const { ids, pairing } = baselinePlan(fleetOpts);
  const runs: Record<Config, Figures[]> = {
    plain: [],
    plainTwins: [],
    workersTwins: [],
    ideal: [],
    idealHere: [],
  };

  for (let round = 1; round <= rounds; round++) {
    for (const [name, b] of Object.entries(BASELINES) as [
      keyof typeof BASELINES,
      (typeof BASELINES)[keyof typeof BASELINES],
    ][]) {
      console.error(
        `round ${round}/${rounds}: ${name} — ${nodes} MQTT.js clients ${b.inWorkers ? `in ${fleetWorkers} worker threads` : "in the broker's thread"}${b.twins ? " + twins" : ""}, ring of ${groupSize}, ${rate}/node/min, ${durationS} s`,
      );
      const broker = await startBroker({ host: "127.0.0.1", port: 0 });
      // As a fleet run's own twins service: no probe of the broker (fleet/setup.ts).
      const twins = b.twins ? await startTwins({ url: broker.url, probe: false }) : undefined;
      const r = await runBaseline({
        url: broker.url,
        ids,
        pairing,
        ratePerNodePerMin: rate,
        durationS,
        seed,
        workers: b.inWorkers ? fleetWorkers : 0,
      });
      await twins?.close();
      await broker.close();
      runs[name].push({
        presses: r.presses,
        deliveries: r.deliveries,
        lost: r.lost,
        p50Ms: r.sync.p50,
        p99Ms: r.sync.p99,
      });
    }
    for (const [name, workers] of Object.entries(FLEETS) as [keyof typeof FLEETS, "default" | 0][]) {
      const where = workers === 0 ? "in the broker's thread" : `in ${fleetWorkers} worker threads`;
      console.error(
        `round ${round}/${rounds}: ${name} — ${nodes} simulated nodes ${where}, same pairing and rate`,
      );
      const r = await runFleet(workers === 0 ? { ...fleetOpts, workers: 0 } : fleetOpts);
      if (!r.sim.keptUp) console.error("  the simulator did not keep up in this run");
      runs[name].push({
        presses: r.presses,
        deliveries: r.deliveries,
        lost: r.lost,
        p50Ms: r.sync.p50Ms,
        p99Ms: r.sync.p99Ms,
      });
    }
  }

  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
  };
  const med = (c: Config) => ({
    p50Ms: median(runs[c].map((r) => r.p50Ms)),
    p99Ms: median(runs[c].map((r) => r.p99Ms)),
  });
  const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 100) / 100 : null);
  const against = (fleet: keyof typeof FLEETS, c: keyof typeof BASELINES) => {
    const f = med(fleet);
    const b = med(c);
    return { p50: ratio(f.p50Ms, b.p50Ms), p99: ratio(f.p99Ms, b.p99Ms) };
  };
  record("overhead", {
    nodes,
    durationS,
    ratePerNodePerMin: rate,
    rounds,
    workers: fleetWorkers,
    median: {
      plain: med("plain"),
      plainTwins: med("plainTwins"),
      workersTwins: med("workersTwins"),
      ideal: med("ideal"),
      idealHere: med("idealHere"),
    },
    ratio: {
      ideal: {
        plain: against("ideal", "plain"),
        plainTwins: against("ideal", "plainTwins"),
        workersTwins: against("ideal", "workersTwins"),
      },
      idealHere: {
        plain: against("idealHere", "plain"),
        plainTwins: against("idealHere", "plainTwins"),
      },
    },
    runs,
  });
}
