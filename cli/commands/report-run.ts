/**
 * What `twinfleet report merge` runs (declared in cli/commands/report.ts, which loads this module
 * only when it runs): the shard files joined into one fleet report, printed, written and judged.
 */
import { statSync } from "node:fs";
import { type MergedReport, requirementFailures, writeReport } from "../../fleet/report.js";
import { mergeShardFiles } from "../../fleet/shard-merge.js";
import { wideCrossShardBound } from "../../fleet/shard-offsets.js";
import { isStdout } from "../../node/whole-file.js";
import { shownPath } from "../../protocol/shown.js";
import { UsageError } from "../errors.js";
import type { CliIO } from "../main.js";
import { checkOutputFile, writeOutputFile } from "../output-path.js";
import { summary } from "../sim-summary.js";

export interface MergeFlags {
  readonly out?: string;
  readonly json?: boolean;
  readonly assert?: boolean;
  readonly partial?: boolean;
}

export function runReportMerge(files: string[], flags: MergeFlags, io: CliIO): void {
  files.forEach((f, i) => {
    const earlier = files.slice(0, i).find((e) => e === f || sameFile(e, f));
    if (earlier !== undefined)
      throw new UsageError(
        `${shownPath(f)} is given twice${earlier === f ? "" : ` (as ${shownPath(earlier)})`}: give each shard's report once`,
      );
  });
  if (flags.out !== undefined) {
    checkOutputFile("--out", flags.out);
    const input = files.find((f) => flags.out !== undefined && sameFile(f, flags.out));
    if (input !== undefined)
      throw new UsageError(
        `--out: ${shownPath(flags.out)} is ${input === flags.out ? "" : `${shownPath(input)}, `}one of the shard reports merged: the merged report would replace it, and with it the shard's presses and states, which no other file holds; give --out another file`,
      );
  }
  const merged = mergeShardFiles(files, { partial: flags.partial === true });
  if (flags.out !== undefined) writeOutputFile("--out", flags.out, (p) => writeReport(p, merged));
  // With --out on standard output (`-`, `/dev/stdout`), what is printed besides goes to stderr.
  const print = flags.out !== undefined && isStdout(flags.out) ? io.stderr : io.stdout;
  print(flags.json === true ? `${JSON.stringify(merged, null, 2)}\n` : mergedSummary(merged));
  const failures = [
    ...missingShards(merged),
    ...cutShards(merged),
    ...apartShards(merged),
    ...requirementFailures(merged),
  ];
  if (flags.assert === true && failures.length > 0) {
    io.stderr(`twinfleet report merge: requirements not met:\n${failures.map((f) => `  - ${f}\n`).join("")}`);
    io.exit?.(1);
  }
}

/** `--partial`: the shards that wrote no report, as a failure of the requirements. */
function missingShards(r: MergedReport): string[] {
  const missing = r.shards.missing ?? [];
  if (missing.length === 0) return [];
  const fleet = r.scenario.fleetNodes ?? r.scenario.nodes;
  return [
    `shard${missing.length > 1 ? "s" : ""} ${missing.join(", ")} of ${r.shards.count} wrote no report: ${fleet - r.scenario.nodes} of the ${fleet} nodes, their presses and the deliveries to them are in no figure`,
  ];
}

/** The shards stopped by a signal before the end of the presses, as a failure of the requirements. */
function cutShards(r: MergedReport): string[] {
  return r.shards.lines.flatMap((l) =>
    l.cutShort !== undefined && l.cutShort.afterPressS < r.scenario.durationS
      ? [
          `shard ${l.shard} of ${r.shards.count} was cut short ${l.cutShort.afterPressS === 0 ? "before its presses began" : `${l.cutShort.afterPressS.toFixed(1)} s into the ${r.scenario.durationS} s of presses`}: its ${l.nodes} nodes are measured only until then (${l.cutShort.unjudgedPairs} pairs pressed later to them are in no figure)`,
        ]
      : [],
  );
}

/** The shards whose presses began more than 5 s from shard 1's, as a failure of the requirements. */
function apartShards(r: MergedReport): string[] {
  return r.shards.lines.flatMap((l) =>
    l.pressedApartS === undefined
      ? []
      : [
          `shard ${l.shard} of ${r.shards.count} began its presses ${apartText(l.pressedApartS)}: the shards did not press together, and the pairs across them count deliveries to nodes not pressing yet or any more (start the shards within 30 s of one another)`,
        ],
  );
}

const apartText = (s: number) =>
  `${Math.abs(s).toFixed(1)} s ${s > 0 ? "after" : "before"} shard 1's (on shard 1's clock)`;

/** A bound of a millisecond or less to the microsecond, one above it to a tenth. */
const fine = (v: number) => `${v < 1 ? v.toFixed(3) : v.toFixed(1)} ms`;

/** The sim summary of the whole fleet, then the shards and their clocks. */
export function mergedSummary(r: MergedReport): string {
  const s = r.shards;
  const ms = (v: number | null) => (v === null ? "unknown" : `${v.toFixed(1)} ms`);
  const cross = s.crossShardSync;
  const head = `       shards         ${s.count}, ${s.crossShardPairs} pairs across shards: sync p50 ${ms(cross.p50Ms)}  p99 ${ms(cross.p99Ms)}  max ${ms(cross.maxMs)}; clocks on shard 1's, offsets within ${ms(s.offsetUncertaintyMaxMs)}${s.crossShardErrorMaxMs === undefined ? "" : `, so a latency across shards is out by ${s.crossShardErrorMaxMs === null ? "an unknown amount (a shard's clock is uncorrected)" : `at most ${fine(s.crossShardErrorMaxMs)}`}`}`;
  const err = s.crossShardErrorMaxMs;
  const wide =
    err != null && wideCrossShardBound(err, cross.p50Ms)
      ? `\n       UNCERTAIN      the latencies across shards carry ± ${fine(err)}, ${Math.round((err / (cross.p50Ms as number)) * 100)} % of their p50: a shard's clock is known to its host's, or to shard 1's, only that closely (a host loaded or its clock stepped, probes held up on their way through the broker); read each figure across shards to within that`
      : "";
  const lines = s.lines.map(
    (l) =>
      `       shard ${String(l.shard).padEnd(8)} ${l.nodes} nodes on ${l.hostname}: ${l.presses} presses, ${l.deliveries} deliveries to its nodes, ${l.lost} later than 5 s, sync p99 ${ms(l.syncP99Ms)}, registration max ${(l.registrationMaxMs / 1000).toFixed(2)} s, lag p99 ${ms(l.lagP99Ms)}, clock ${l.offsetMs >= 0 ? "+" : ""}${l.offsetMs.toFixed(1)} ms ± ${ms(l.offsetUncertaintyMs)} (round trip ${ms(l.roundTripMs)}${l.originUncertaintyMs == null ? "" : `; its host's date ± ${fine(l.originUncertaintyMs)}`})${l.cutShort === undefined ? "" : `, CUT SHORT ${l.cutShort.afterPressS === 0 ? "before its presses began" : `${l.cutShort.afterPressS.toFixed(1)} s after its presses began`}`}${l.pressedApartS === undefined ? "" : `, PRESSED APART: began ${apartText(l.pressedApartS)}`}`,
  );
  const missing = (s.missing ?? []).map(
    (k) =>
      `       shard ${String(k).padEnd(8)} NO REPORT (--partial): its nodes, their presses and the deliveries to them are left out`,
  );
  return `${summary(r).replace(/\n$/, "")}\n${head}${wide}\n${[...lines, ...missing].join("\n")}\n`;
}

/** `a` and `b` name one existing file (a link, another spelling of its path). */
function sameFile(a: string, b: string): boolean {
  try {
    const x = statSync(a);
    const y = statSync(b);
    return x.isFile() && x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}
