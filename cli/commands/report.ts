/**
 * `twinfleet report merge FILES…`: joins the shard reports of a fleet run with `sim --shard K/N
 * --shard-report FILE` into one fleet report — printed as `twinfleet sim` prints its summary, plus a
 * line per shard and the clock offsets, or as JSON (`--json`), and written with `--out FILE`.
 */
import type { Command } from "commander";
import { type MergedReport, requirementFailures, writeReport } from "../../fleet/report.js";
import { mergeShardFiles } from "../../fleet/shard-merge.js";
import type { CliIO, RegisterCommand } from "../main.js";
import { checkOutputFile } from "../output-path.js";
import { summary } from "../sim-summary.js";

interface MergeFlags {
  readonly out?: string;
  readonly json?: boolean;
  readonly assert?: boolean;
}

export const registerReportCommand: RegisterCommand = (program: Command, io: CliIO) => {
  const report = program.command("report").description("work with run reports (merge the shards of a fleet)");
  report
    .command("merge")
    .description(
      "join the shard reports of one fleet (sim --shard K/N --shard-report FILE) into one fleet report",
    )
    .argument("<files...>", "every shard's report, one per shard")
    .option("--out <file>", "write the merged JSON report here")
    .option("--json", "print the merged report as JSON instead of the summary")
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
    .action((files: string[], flags: MergeFlags) => {
      if (flags.out !== undefined) checkOutputFile("--out", flags.out);
      const merged = mergeShardFiles(files);
      if (flags.out !== undefined) writeReport(flags.out, merged);
      io.stdout(flags.json === true ? `${JSON.stringify(merged, null, 2)}\n` : mergedSummary(merged));
      const failures = requirementFailures(merged);
      if (flags.assert === true && failures.length > 0) {
        io.stderr(
          `twinfleet report merge: requirements not met:\n${failures.map((f) => `  - ${f}\n`).join("")}`,
        );
        process.exitCode = 1;
      }
    });
};

/** The sim summary of the whole fleet, then the shards and their clocks. */
export function mergedSummary(r: MergedReport): string {
  const s = r.shards;
  const ms = (v: number | null) => (v === null ? "unknown" : `${v.toFixed(1)} ms`);
  const cross = s.crossShardSync;
  const head = `       shards         ${s.count}, ${s.crossShardPairs} pairs across shards: sync p50 ${ms(cross.p50Ms)}  p99 ${ms(cross.p99Ms)}  max ${ms(cross.maxMs)}; clocks on shard 1's, offsets within ${ms(s.offsetUncertaintyMaxMs)}`;
  const lines = s.lines.map(
    (l) =>
      `       shard ${String(l.shard).padEnd(8)} ${l.nodes} nodes on ${l.hostname}: ${l.presses} presses, ${l.deliveries} deliveries to its nodes, ${l.lost} lost, sync p99 ${ms(l.syncP99Ms)}, registration max ${(l.registrationMaxMs / 1000).toFixed(2)} s, lag p99 ${ms(l.lagP99Ms)}, clock ${l.offsetMs >= 0 ? "+" : ""}${l.offsetMs.toFixed(1)} ms ± ${ms(l.offsetUncertaintyMs)} (round trip ${ms(l.roundTripMs)})`,
  );
  return `${summary(r).replace(/\n$/, "")}\n${head}\n${lines.join("\n")}\n`;
}
