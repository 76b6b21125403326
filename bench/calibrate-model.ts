/**
 * The model half of the calibration alone (no root needed): the `linux-client` fleet of pairs at
 * each loss level, p50/p90/p99 and lost, as `calibrate` runs it beside the kernel.
 *   npm run bench -- calibrate --model-only [--loss 0,5,10,15,20,25] [--rates 40] [--clients 50] [--seconds 60]
 *   npm run bench -- calibrate --model-only --real bench/calibration/kernel-plain-1.json[,…]: the kernel's side
 *   of recorded runs (several: pooled per level-rate, with the kernel's own spread; bench/calibrate-pooled.ts)
 *   beside the current model (same clients and seconds), as tables.
 *   [--model-save FILE] [--model-from FILE] [--before FILE]: keep the model's sides, judge saved
 *   ones again, say which level-runs a change moved into the target and out of it.
 *   --model-seeds N: N runs per level, pooled (mean percentiles and lost; default 1).
 */
import { runFleet } from "../fleet/run.js";
import { judgePooled } from "./calibrate-pooled.js";
import { parseNumberList, pool, type Side } from "./calibrate-table.js";
import { arg, numArg } from "./record.js";

/**
 * The calibration's fleet under the model: `seeds` virtual-time runs (the first with the seed the
 * single run always had), pooled (calibrate-table.ts `pool`).
 */
export async function modelSide(
  clients: number,
  rate: number,
  seconds: number,
  lossPct: number,
  seeds = 1,
): Promise<Side> {
  if (!Number.isInteger(seeds) || seeds < 1) throw new Error(`--model-seeds ${seeds}: a whole number ≥ 1`);
  const runs: Side[] = [];
  for (let i = 0; i < seeds; i++) runs.push(await modelRun(clients, rate, seconds, lossPct, i));
  return seeds === 1 ? (runs[0] as Side) : pool(runs);
}

async function modelRun(
  clients: number,
  rate: number,
  seconds: number,
  lossPct: number,
  seedIndex: number,
): Promise<Side> {
  const m = await runFleet({
    nodes: clients,
    profile: "linux-client",
    topology: "pairs",
    ratePerNodePerMin: (rate * 60) / clients,
    durationS: seconds + 5,
    pressesEndEarlyS: 5,
    settleS: 5,
    // The loss starts with the presses, as the kernel's side installs its drop rule once every
    // client is connected and subscribed: the fleet boots, registers and pairs without loss.
    lossPct: 0,
    faults: [{ kind: "loss", atS: 0, pct: lossPct }],
    seed: `calibrate-${lossPct}-${rate}${seedIndex === 0 ? "" : `-s${seedIndex}`}`,
    clock: "virtual",
  });
  const { p50Ms, p90Ms, p99Ms } = m.sync;
  return { samples: m.deliveries, p50Ms, p90Ms, p99Ms, lost: m.lost };
}

export async function calibrateModel(argv: string[]): Promise<void> {
  const seeds = numArg(argv, "--model-seeds", 1);
  const recorded = arg(argv, "--real", "");
  if (recorded !== "") {
    await judgePooled(
      argv,
      recorded.split(",").map((f) => f.trim()),
      seeds,
      modelSide,
    );
    return;
  }
  const losses = parseNumberList("--loss", arg(argv, "--loss", "0,5,10,15,20,25"), 0, 90);
  const rates = parseNumberList("--rates", arg(argv, "--rates", "40"), 0.01, 10_000);
  const clients = numArg(argv, "--clients", 50);
  const seconds = numArg(argv, "--seconds", 60);
  for (const rate of rates) {
    for (const lossPct of losses) {
      const s = await modelSide(clients, rate, seconds, lossPct, seeds);
      const f = (x: number) => (x < 10 ? x.toFixed(1) : Math.round(x).toLocaleString("en"));
      console.log(
        `loss ${lossPct} % ${rate}/s: ${s.samples} samples, ${f(s.p50Ms)} / ${f(s.p90Ms)} / ${f(s.p99Ms)} ms, ${s.lost} lost`,
      );
    }
  }
}
