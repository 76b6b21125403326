/**
 * Overhead of the simulator: the `ideal` profile's sync latency against plain MQTT.js clients running
 * the same node core with the same pairing and rate, on the same embedded broker, in one run.
 *   npm run bench -- overhead [--nodes 500] [--duration 60] [--rate 6]
 */
import { startBroker } from "../broker/index.js";
import { resolveFleetOptions } from "../fleet/options.js";
import { runFleet } from "../fleet/run.js";
import { buildPairing, fleetIds } from "../sim/topology.js";
import { startTwins } from "../twins/index.js";
import { runBaseline } from "./baseline.js";
import { arg, record } from "./record.js";

export async function overhead(argv: string[]): Promise<void> {
  const nodes = Number(arg(argv, "--nodes", "500"));
  const durationS = Number(arg(argv, "--duration", "60"));
  const rate = Number(arg(argv, "--rate", "6"));
  const groupSize = 8;
  const seed = "overhead";

  const ids = fleetIds(nodes, "b");
  const pairing = buildPairing(ids, { kind: "ring", groupSize, seed });
  // Twice: plain clients alone on the broker, and with the twins service subscribed to every report
  // as in every fleet run — the simulated fleet's broker serves that subscriber too.
  const baselines: Record<string, Awaited<ReturnType<typeof runBaseline>>> = {};
  for (const withTwins of [false, true]) {
    const broker = await startBroker({ host: "127.0.0.1", port: 0 });
    const twins = withTwins ? await startTwins({ url: broker.url }) : undefined;
    console.error(
      `baseline${withTwins ? " + twins" : ""}: ${nodes} MQTT.js clients, ring of ${groupSize}, ${rate}/node/min, ${durationS} s`,
    );
    baselines[withTwins ? "withTwins" : "plain"] = await runBaseline({
      url: broker.url,
      ids,
      pairing,
      ratePerNodePerMin: rate,
      durationS,
      seed,
    });
    await twins?.close();
    await broker.close();
  }
  const base = baselines.plain as Awaited<ReturnType<typeof runBaseline>>;
  const baseTwins = baselines.withTwins as Awaited<ReturnType<typeof runBaseline>>;

  console.error(`ideal: ${nodes} simulated nodes, same pairing and rate`);
  const ideal = await runFleet(
    resolveFleetOptions({
      nodes: String(nodes),
      profile: "ideal",
      topology: "ring",
      groupSize: String(groupSize),
      rate: String(rate),
      duration: String(durationS),
      settle: "5",
      seed,
    }),
  );
  const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 100) / 100 : null);
  record("overhead", {
    nodes,
    durationS,
    ratePerNodePerMin: rate,
    baseline: {
      presses: base.presses,
      deliveries: base.deliveries,
      lost: base.lost,
      p50Ms: base.sync.p50,
      p99Ms: base.sync.p99,
    },
    baselineWithTwins: {
      presses: baseTwins.presses,
      deliveries: baseTwins.deliveries,
      lost: baseTwins.lost,
      p50Ms: baseTwins.sync.p50,
      p99Ms: baseTwins.sync.p99,
    },
    ideal: {
      presses: ideal.presses,
      deliveries: ideal.deliveries,
      lost: ideal.lost,
      p50Ms: ideal.sync.p50Ms,
      p99Ms: ideal.sync.p99Ms,
      keptUp: ideal.sim.keptUp,
    },
    ratio: { p50: ratio(ideal.sync.p50Ms, base.sync.p50), p99: ratio(ideal.sync.p99Ms, base.sync.p99) },
    ratioWithTwins: {
      p50: ratio(ideal.sync.p50Ms, baseTwins.sync.p50),
      p99: ratio(ideal.sync.p99Ms, baseTwins.sync.p99),
    },
  });
}
