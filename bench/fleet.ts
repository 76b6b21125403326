/**
 * Fleet benchmarks.
 *   npm run bench -- fleet [--nodes 1000] [--duration 60] [--profile uno-w5100]   the paper's requirements at 1,000 nodes
 *   npm run bench -- scale [--sizes 2500,5000,7500,10000,12500] [--duration 30] [--keep-going]  the largest fleet that keeps up:
 *     every thread's event-loop lag p99 (main, the broker's thread, each node worker) under 50 ms;
 *     stops at the first size that does not keep up unless --keep-going
 */

import { loadavg } from "node:os";
import { withFlagNames } from "../cli/fleet-flags.js";
import { MAX_NODES } from "../fleet/options.js";
import type { Report } from "../fleet/report.js";
import { runFleet } from "../fleet/run.js";
import { parseNumberList } from "./calibrate-table.js";
import { arg, numArg, record } from "./record.js";

function summary(r: Report) {
  return {
    nodes: r.scenario.nodes,
    presses: r.presses,
    deliveries: r.deliveries,
    sync: r.sync,
    lost: r.lost,
    diverged: r.diverged,
    registration: {
      p50Ms: r.registration.p50Ms,
      maxMs: r.registration.maxMs,
      registered: r.registration.registered,
    },
    cpu: r.cpu,
    sim: r.sim,
    requirements: r.requirements,
  };
}

export async function fleet(argv: string[]): Promise<void> {
  const r = await withFlagNames(() =>
    runFleet({
      nodes: numArg(argv, "--nodes", 1000),
      profile: arg(argv, "--profile", "uno-w5100"),
      topology: "ring",
      groupSize: 8,
      ratePerNodePerMin: 1,
      lossPct: 0,
      durationS: numArg(argv, "--duration", 60),
      settleS: 10,
      seed: "bench",
    }),
  );
  record("fleet", summary(r));
}

export async function scale(argv: string[]): Promise<void> {
  const sizes = parseNumberList("--sizes", arg(argv, "--sizes", "2500,5000,7500,10000,12500"), 1, MAX_NODES);
  const rows: (ReturnType<typeof summary> & { memoryPerNodeKB: number | null; loadAverage: number[] })[] = [];
  for (const n of sizes) {
    console.error(`scale: ${n} nodes`);
    const r = await withFlagNames(() =>
      runFleet({
        nodes: n,
        topology: "ring",
        groupSize: 8,
        ratePerNodePerMin: 1,
        durationS: numArg(argv, "--duration", 30),
        settleS: 10,
        seed: "scale",
      }),
    );
    const memoryPerNodeKB = r.sim.rssMB === null ? null : Math.round((r.sim.rssMB * 1024) / n);
    rows.push({
      ...summary(r),
      memoryPerNodeKB,
      loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    });
    const threads = Object.entries(r.sim.threads)
      .map(([t, l]) => `${t} ${l.p99Ms}`)
      .join(", ");
    console.error(
      `  registered ${r.registration.registered}/${n} max ${(r.registration.maxMs / 1000).toFixed(1)} s, sync p99 ${r.sync.p99Ms} ms, lost ${r.lost}, rss ${r.sim.rssMB} MB (${memoryPerNodeKB} KB/node), kept up ${r.sim.keptUp}`,
    );
    console.error(
      `  lag p99 ms by thread: ${threads}; load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}`,
    );
    // Past the first size that fails, only with --keep-going (on a shared, noisy host).
    if ((!r.sim.keptUp || r.registration.registered < n) && !argv.includes("--keep-going")) break;
  }
  const ok = rows.filter((r) => r.sim.keptUp && r.registration.registered === r.nodes);
  const largest = ok.at(-1);
  console.error(`scale: largest size that kept up: ${largest?.nodes ?? "none"}`);
  const a = rows[0];
  const b = rows.at(-1);
  const perNodeKB =
    a && b && b.nodes > a.nodes
      ? Math.round((((b.sim.rssMB ?? 0) - (a.sim.rssMB ?? 0)) * 1024) / (b.nodes - a.nodes))
      : null;
  record("scale", { rows, largestKeptUp: largest?.nodes ?? 0, marginalMemoryPerNodeKB: perNodeKB });
}
