/**
 * `twinfleet report show FILE`: prints a saved run report's summary again, as the run printed it
 * (cli/commands/report-show.ts). `twinfleet report merge FILES…`: joins the shard reports of a fleet run with `sim --shard K/N
 * --shard-report FILE` into one fleet report — printed as `twinfleet sim` prints its summary, plus a
 * line per shard and the clock offsets, or as JSON (`--json`), and written with `--out FILE`. Its
 * options and help; what it runs is loaded when it runs (cli/commands/report-run.ts).
 */
import type { Command } from "commander";
import type { CliIO, RegisterCommand } from "../main.js";
import type { MergeFlags } from "./report-run.js";

export const registerReportCommand: RegisterCommand = (program: Command, io: CliIO) => {
  const report = program
    .command("report")
    .description("work with run reports (show a saved one's summary, merge the shards of a fleet)");
  report
    .command("show")
    .description(
      "print a saved run report's summary (sim --report FILE, report merge --out FILE) as the run printed it at its end",
    )
    .argument("<file>", "the JSON report; - reads it from stdin")
    .addHelpText(
      "after",
      `
Examples:
  twinfleet sim --nodes 50 --duration 60 --headless --report run.json
  twinfleet report show run.json
  twinfleet report show fleet.json        (a merged report: with its shards' lines)
  ssh host cat run.json | twinfleet report show -`,
    )
    .action(async (file: string) => {
      const { runReportShow } = await import("./report-show.js");
      await runReportShow(file, io);
    });
  report
    .command("merge")
    .description(
      "join the shard reports of one fleet (sim --shard K/N --shard-report FILE) into one fleet report",
    )
    .argument("<files...>", "every shard's report, one per shard")
    .option("--out <file>", "write the merged JSON report here")
    .option("--json", "print the merged report as JSON instead of the summary")
    .option(
      "--partial",
      "merge the shards that wrote a report when some did not (a shard's host lost): the missing shards' nodes are left out, and --assert fails",
    )
    .option("--assert", "exit 1 unless sync p99 < 1 s, all registered < 30 s, nothing lost or diverged")
    .addHelpText(
      "after",
      `
Examples:
  twinfleet report merge shard-*.json
  twinfleet report merge s1.json s2.json s3.json s4.json --out fleet.json --assert

Every shard's times are put on shard 1's clock with the offsets its clock probes measured through the
broker (stated per shard, with their uncertainty); every press and applied state is then replayed
through the same checker a single run uses, so sync latency and losses cover the pairs that cross
shards. See docs/shards.md.`,
    )
    .action(async (files: string[], flags: MergeFlags) => {
      const { runReportMerge } = await import("./report-run.js");
      runReportMerge(files, flags, io);
    });
};
