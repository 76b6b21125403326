/**
 * The mark a run leaves at its `--report` path while it runs. A run killed without a goodbye (kill -9,
 * a power cut, the OOM killer) writes no report, and the path kept whatever an earlier run wrote
 * there: `twinfleet report show` then showed that run's figures as this one's, with nothing to tell
 * them apart. So the run writes this mark there as it starts, replaced by its report at its end (or
 * removed when it ends with none); `report show` reads a mark as the run that never ended.
 */
import { hostname } from "node:os";
import { writeFileWhole } from "../node/whole-file.js";

/** The `kind` of a mark (a run report has none). */
export const UNFINISHED_KIND = "twinfleet-run-unfinished";

export interface UnfinishedMark {
  readonly kind: typeof UNFINISHED_KIND;
  /** When the run started (ISO date, the host's clock), its process and host. */
  readonly startedAt: string;
  readonly pid: number;
  readonly hostname: string;
}

/** Writes the mark of the run started at `startedAt` (ms since the epoch) to `path`, whole. */
export function writeUnfinishedMark(path: string, startedAt: number): void {
  const mark: UnfinishedMark = {
    kind: UNFINISHED_KIND,
    startedAt: new Date(startedAt).toISOString(),
    pid: process.pid,
    hostname: hostname(),
  };
  writeFileWhole(path, `${JSON.stringify(mark, null, 2)}\n`);
}

/** What a mark read back says (`at`: the file as errors name it); undefined for anything else. */
export function unfinishedLine(at: string, v: Record<string, unknown>): string | undefined {
  if (v.kind !== UNFINISHED_KIND) return undefined;
  const str = (x: unknown) => (typeof x === "string" || typeof x === "number" ? String(x) : "?");
  return (
    `${at}: holds no report: the twinfleet sim run writing it (pid ${str(v.pid)} on ${str(v.hostname)}, started ${str(v.startedAt)}) ` +
    "has not ended: it is still running, or it was killed without a goodbye (kill -9, a power cut, the OOM killer), " +
    "which writes no report (Ctrl-C or SIGTERM end a run with its report, cut short)"
  );
}
