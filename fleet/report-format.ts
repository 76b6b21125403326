/**
 * The formats of the fleet's report files, and the check every reader of them makes first: a run
 * report (`sim --report FILE`, `report merge --out FILE`) says `"format": "twinfleet-run-report/N"`,
 * a shard's report (`sim --shard K/N --shard-report FILE`) `"format": "twinfleet-shard-report/N"`.
 * N grows when a field is renamed, removed or comes to mean something else, or when a section is
 * added that a reader must weigh to tell the run's outcome truly; fields a reader may pass over
 * are added to the format as it is, optional. A reader refuses a format newer than it reads (a
 * NewerReportError: the file is whole, this build is too old for it, exit 1), naming the build that
 * wrote it; a run report without a format (builds before 7 December 2026) is in format 1.
 */
import { VERSION } from "../node/version.js";

/** The run report's format as written by this build, and the highest this build reads. */
export const RUN_REPORT_VERSION = 1;
export const RUN_REPORT_FORMAT = `twinfleet-run-report/${RUN_REPORT_VERSION}` as const;

/** The two kinds of report file, as their format names them and as messages name them. */
export type ReportKind = "run" | "shard";

const FORMAT = /^twinfleet-(run|shard)-report\/([1-9][0-9]{0,5})$/;

/** A format's kind and number (`twinfleet-shard-report/2` → shard, 2); undefined for anything else. */
export function parseReportFormat(format: unknown): { kind: ReportKind; n: number } | undefined {
  if (typeof format !== "string") return undefined;
  const m = FORMAT.exec(format);
  return m === null ? undefined : { kind: m[1] as ReportKind, n: Number(m[2]) };
}

/** A report in a format newer than this build reads: the file is whole, this build too old for it. */
export class NewerReportError extends Error {
  override readonly name = "NewerReportError";
}

/**
 * Throws a NewerReportError when format `n` of a `kind` report at `at` is past `reads` (the
 * highest this build reads); `build` is what the report names as the build that wrote it.
 */
export function checkNotNewer(
  at: string,
  kind: ReportKind,
  n: number,
  reads: number,
  build: unknown,
  remedy: string,
): void {
  if (n <= reads) return;
  const by = typeof build === "string" && build !== "" ? ` (build ${build})` : "";
  throw new NewerReportError(
    `${at} is a ${kind} report in format ${n}, written by a newer twinfleet${by}; this one reads formats up to ${reads}: ${remedy} (this is ${VERSION})`,
  );
}
