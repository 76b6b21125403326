/**
 * Does the console slow the fleet? Event-loop lag of the workers (and the main thread) at 1,000 nodes,
 * once without the console and once with it drawing to an off-screen 200×60 terminal at its default
 * frame rate.
 *   npm run bench -- console-lag [--nodes 1000] [--duration 40]
 */
import { PassThrough } from "node:stream";
import { withFlagNames } from "../cli/fleet-flags.js";
import { openConsole } from "../console/index.js";
import { FleetRun } from "../fleet/run.js";
import { SimSource } from "../view/sim-source.js";
import { numArg, record } from "./record.js";

async function once(nodes: number, durationS: number, withConsole: boolean) {
  const run = await withFlagNames(() =>
    FleetRun.start({ nodes, ratePerNodePerMin: 1, durationS, settleS: 5, seed: "console", groupSize: 8 }),
  );
  let close = () => {};
  if (withConsole) {
    const output = Object.assign(new PassThrough(), { columns: 200, rows: 60, isTTY: true });
    output.resume();
    const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => input });
    const source = new SimSource(run);
    const ui = openConsole(source, { input, output, terminal: "xterm-256color", handleProcess: false });
    close = () => {
      ui.close();
      source.close();
    };
  }
  const r = await run.done;
  close();
  return {
    withConsole,
    workerLagP99Ms: r.sim.workerLagP99Ms,
    mainLagP99Ms: r.sim.mainLagP99Ms,
    brokerLagP99Ms: r.sim.brokerLagP99Ms,
    lagMaxMs: r.sim.lagMaxMs,
    syncP50Ms: r.sync.p50Ms,
    syncP99Ms: r.sync.p99Ms,
    keptUp: r.sim.keptUp,
  };
}

export async function consoleLag(argv: string[]): Promise<void> {
  const nodes = numArg(argv, "--nodes", 1000);
  const durationS = numArg(argv, "--duration", 40);
  const without = await once(nodes, durationS, false);
  const withIt = await once(nodes, durationS, true);
  record("console-lag", { nodes, durationS, without, with: withIt });
}
