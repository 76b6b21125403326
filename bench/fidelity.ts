/**
 * Fidelity of wall-time runs: the same fleet (profile, ring pairing, rate, seed) once as a fleet run
 * on wall time against the embedded broker, once on virtual time (`clock: "virtual"`). The
 * virtual run is the model's own sync latency; the difference is what the host adds.
 *   npm run bench -- fidelity [--profile uno-w5100] [--nodes 500] [--duration 30] [--rate 6]
 */
import { runFleet } from "../fleet/run.js";
import { arg, numArg, record } from "./record.js";
import { ringFleetOptions } from "./ring-fleet.js";

export async function fidelity(argv: string[]): Promise<void> {
  const profile = arg(argv, "--profile", "uno-w5100");
  const nodes = numArg(argv, "--nodes", 500);
  const durationS = numArg(argv, "--duration", 30);
  const rate = numArg(argv, "--rate", 6);
  const fleet = { nodes, profile, groupSize: 8, ratePerNodePerMin: rate, durationS, seed: "fidelity" };

  console.error(`virtual time: ${nodes} ${profile} nodes, ring of 8, ${rate}/node/min, ${durationS} s`);
  const virtual = await runFleet({ ...ringFleetOptions(fleet), clock: "virtual" });
  console.error(`wall time: the same fleet against the embedded broker`);
  const wall = await runFleet(ringFleetOptions(fleet));
  const round = (x: number) => Math.round(x * 1000) / 1000;
  record("fidelity", {
    profile,
    nodes,
    durationS,
    ratePerNodePerMin: rate,
    virtual: {
      registered: virtual.registration.registered,
      presses: virtual.presses,
      deliveries: virtual.deliveries,
      lost: virtual.lost,
      p50Ms: virtual.sync.p50Ms,
      p90Ms: virtual.sync.p90Ms,
      p99Ms: virtual.sync.p99Ms,
      maxMs: virtual.sync.maxMs,
    },
    wall: {
      presses: wall.presses,
      deliveries: wall.deliveries,
      lost: wall.lost,
      p50Ms: wall.sync.p50Ms,
      p90Ms: wall.sync.p90Ms,
      p99Ms: wall.sync.p99Ms,
      maxMs: wall.sync.maxMs,
      keptUp: wall.sim.keptUp,
    },
    hostAddsMs: {
      p50: round(wall.sync.p50Ms - virtual.sync.p50Ms),
      p90: round(wall.sync.p90Ms - virtual.sync.p90Ms),
      p99: round(wall.sync.p99Ms - virtual.sync.p99Ms),
    },
  });
}
