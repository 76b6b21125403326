/**
 * `twinfleet sweep`: reruns the seed paper's experiments (and the settings sweep, and fault cases) on
 * a simulated fleet, one short fleet run per point with a progress line and ETA each, and writes
 * report.json, the CSVs and the self-contained report.html. Its options and help; what it runs is
 * loaded when it runs (cli/commands/sweep-run.ts).
 */
import type { Command } from "commander";
import { addLoginOptions, addNodeLoginOptions } from "../login-options.js";
import type { CliIO, RegisterCommand } from "../main.js";
import type { RawSweepOptions } from "./sweep-run.js";

export const registerSweepCommand: RegisterCommand = (program: Command, io: CliIO) => {
  const cmd = program
    .command("sweep")
    .description("rerun the paper's experiments on a simulated fleet and write a report with plots")
    .option("--scenario <names>", "scenario names or .json files, comma-separated (default paper,settings)")
    .option(
      "--out <dir>",
      "directory for report.json, *.csv and report.html, written after each point (default sweep-report)",
    )
    .option(
      "--quick",
      "a reduced sweep: 3 loss levels, 20 nodes, 5 s of presses per point, fault times scaled to fit (about 1.5 min)",
    )
    .option(
      "--resume",
      "finish a sweep stopped before its last point: keep the points done in --out's report.json, run the rest (same flags)",
    )
    .option("--nodes <n>", "nodes per fleet point (default: the scenario's)")
    .option("--seconds <s>", "seconds of presses per fleet point (default: the scenario's)")
    .option(
      "--workers <n>",
      "worker threads per fleet point (default: cores, at most 4; 0: in the broker's thread)",
    )
    .option(
      "--clock <real|virtual>",
      "real (default): every point on wall time with real sockets; virtual: in memory, as fast as the CPU allows",
    )
    .option(
      "--broker <url>",
      "every point on this broker (mqtt://[user:password@]host:port) instead of the sweep's own: yours, its delay in the figures",
    )
    .addHelpText(
      "after",
      `
Examples:
  twinfleet sweep                                  the paper's figures and the settings sweep, about 7 min
  twinfleet sweep --clock virtual                  the same points on virtual time, under a minute (docs/sweep.md)
  twinfleet sweep --quick --out /tmp/sweep         a reduced sweep, about a minute and a half
  twinfleet sweep --scenario faults                broker and twins restarts, a power outage, a partition, a frozen client
  twinfleet sweep --scenario paper --nodes 100 --seconds 30
  twinfleet sweep --clock virtual --resume         finish the sweep that was stopped (Ctrl-C, a failed point, kill -9)
  twinfleet sweep --scenario paper --broker mqtt://lab-pi:1883   the paper's figures through your broker
  twinfleet sweep --broker mqtt://lab-pi:1883 --username twins --password-file twins.pw --node-password-file nodes.pw

Each point is a short fleet run of about 15 s of wall time or more (boot, presses, 5 s with the loss
on and no presses so every press can be judged, settle): a line per point says how many are done and
the ETA. Times measured on a 2-core machine; a busy or slower one takes longer.`,
    );
  addNodeLoginOptions(addLoginOptions(cmd, { tls: false })).action(async (raw: RawSweepOptions) => {
    const { runSweepCommand } = await import("./sweep-run.js");
    await runSweepCommand(raw, io);
  });
};
