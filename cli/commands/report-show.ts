/**
 * What `twinfleet report show FILE` runs (declared in cli/commands/report.ts): a saved run report
 * (`sim --report FILE`, or `report merge --out FILE`) read back and printed as the run printed it at
 * its end, through the same summary code. What cannot be shown is refused naming the file and why: a
 * file missing or not JSON, one that is not a run report (a shard's, a sweep's, another JSON), or one
 * in a format newer than this build reads (fleet/report-format.ts), whose fields it may read wrong.
 */
import type { MergedReport, Report } from "../../fleet/report.js";
import { checkNotNewer, parseReportFormat, RUN_REPORT_VERSION } from "../../fleet/report-format.js";
import { unfinishedLine } from "../../fleet/report-unfinished.js";
import { shownPath } from "../../protocol/shown.js";
import {
  FILE_LIMITS,
  jsonProblem,
  readUserStreamText,
  readUserText,
  type UserStream,
} from "../../protocol/user-file.js";
import { UsageError } from "../errors.js";
import type { CliIO } from "../main.js";
import { summary } from "../sim-summary.js";
import { mergedSummary } from "./report-run.js";

/** The top-level sections every run report holds, and what each is. */
const SECTIONS: readonly (readonly [string, "object" | "number"])[] = [
  ["scenario", "object"],
  ["loss", "object"],
  ["sync", "object"],
  ["registration", "object"],
  ["presses", "number"],
  ["deliveries", "number"],
  ["lost", "number"],
  ["cpu", "object"],
  ["link", "object"],
  ["sim", "object"],
  ["requirements", "object"],
  ["versions", "object"],
];

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const typeOf = (v: unknown) => (Array.isArray(v) ? "array" : v === null ? "null" : typeof v);

export async function runReportShow(file: string, io: CliIO): Promise<void> {
  const report = await readRunReport(file, io.stdin ?? process.stdin);
  let text: string;
  try {
    text = reportSummary(report);
  } catch (e) {
    // A section present but not as a run writes it (a hand-edited file, a field gone).
    if (!(e instanceof TypeError)) throw e;
    throw new UsageError(`${shownName(file)}: is not a run report this version can read: ${e.message}`);
  }
  io.stdout(text);
}

/** The summary the run printed at its end: a merged report's with its shards' lines. */
function reportSummary(r: Report): string {
  return isObj((r as Partial<MergedReport>).shards) ? mergedSummary(r as MergedReport) : summary(r);
}

/** The file as its errors name it: `stdin` for `-`. */
const shownName = (file: string): string => (file === STDIN ? "stdin" : shownPath(file));

/** The file name that reads stdin, as in most commands (`ssh host cat r.json | twinfleet report show -`). */
const STDIN = "-";

/** The text of `file`, or of stdin for `-`, at most the size a fleet's report may be. */
async function reportText(file: string, stdin: UserStream): Promise<string> {
  const options = { maxBytes: FILE_LIMITS.fleet, error: (m: string) => new UsageError(m) };
  if (file !== STDIN) return readUserText(file, options);
  return readUserStreamText(stdin, options);
}

/** Reads and checks a saved run report; every error names the file (or stdin). */
async function readRunReport(file: string, stdin: UserStream): Promise<Report> {
  const at = shownName(file);
  const text = await reportText(file, stdin);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${at}: not JSON: ${jsonProblem(text, e)}`);
  }
  const notReport = `is not a run report (written by twinfleet sim --report FILE or twinfleet report merge --out FILE)`;
  if (!isObj(v)) throw new UsageError(`${at}: ${notReport}: a JSON object, got ${typeOf(v)}`);
  // The mark of a run that has not ended (fleet/report-unfinished.ts): a runtime failure, not a usage error.
  const unfinished = unfinishedLine(at, v);
  if (unfinished !== undefined) throw new Error(unfinished);
  const format = v.format === undefined ? { kind: "run", n: 1 } : parseReportFormat(v.format);
  if (format?.kind === "shard")
    throw new UsageError(
      `${at}: is one shard's report (sim --shard K/N --shard-report FILE): join the shards' reports with twinfleet report merge FILES…, which prints the fleet's summary`,
    );
  if (v.kind === "twinfleet-sweep")
    throw new UsageError(
      `${at}: is a sweep's report: its summary is the report.html beside it (docs/sweep.md)`,
    );
  if (format === undefined)
    throw new UsageError(
      `${at}: ${notReport}: format must be "twinfleet-run-report/N", got ${JSON.stringify(v.format)}`,
    );
  // The format alone says whether this build reads the report (docs/metrics.md, "The report file and its format").
  const build = isObj(v.versions) ? v.versions.twinfleet : undefined;
  checkNotNewer(at, "run", format.n, RUN_REPORT_VERSION, build, "show it with that build or a later one");
  for (const [field, type] of SECTIONS)
    if (typeOf(v[field]) !== type)
      throw new UsageError(
        `${at}: ${notReport}: ${v[field] === undefined ? `it has no ${field}` : `${field} must be ${type === "object" ? "an object" : "a number"}, got ${typeOf(v[field])}`}`,
      );
  return v as unknown as Report;
}
