/**
 * What a point kept by `--resume` must hold: the fields the summary, the CSVs and the page read of
 * it, each of its kind (a number, a flag, a name). A report edited by hand, or cut by a broken copy,
 * is refused before any point runs, naming the point and the field, instead of failing on it after
 * the rest of the sweep has run (a TypeError, and the points just run lost).
 */
import { z } from "zod";
import { CPU_COLUMNS, sweepTexts } from "./files.js";
import type { Step, StepResults } from "./steps.js";
import type { SweepReport } from "./sweep.js";

const numbers = (keys: readonly string[]) => z.object(Object.fromEntries(keys.map((k) => [k, z.number()])));
const PCT = numbers(["count", "p5", "p25", "p50", "p75", "p90", "p95", "p99", "max", "mean"]);

/** Every fleet point's fields (loss, settings and fault points alike). */
const POINT = z.object({
  lossPct: z.number(),
  echo: PCT,
  echoLate: z.number(),
  sync: PCT,
  ...numbers(["presses", "deliveries", "lost", "diverged", "cpuMeanPct", "cpuMaxPct"]).shape,
  registration: numbers(["registered", "nodes", "p50Ms", "maxMs"]),
  link: numbers(["segments", "retransmissions", "timeouts", "reconnects"]),
  sim: z.object({ keptUp: z.boolean(), lagP99Ms: z.number(), wallS: z.number() }),
});

const SETTING = POINT.extend({
  variant: z.string(),
  how: z.string(),
  overrides: z.object({}),
  meetsGoal: z.boolean(),
});

const FAULT = POINT.extend({
  name: z.string(),
  described: z.array(z.unknown()),
  faults: z.array(z.unknown()),
  syncOutsideFaults: numbers(["count", "p50Ms", "p90Ms", "p99Ms", "maxMs"]),
  ...numbers(["late", "lostForGood", "lostOutsideFaults", "regressions"]).shape,
  requirements: z.object({}),
  meetsGoal: z.boolean(),
});

const CPU_ROW = z.object({
  case: z.string(),
  ...numbers(CPU_COLUMNS.filter((k) => k !== "case" && k !== "paperPct")).shape,
  paperPct: z.number().nullable(),
});

function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v === "number" && !Number.isFinite(v) ? "not a finite number" : typeof v;
}

/** The first field of `value` missing or of the wrong kind, in words; undefined when all hold. */
function fieldProblem(value: unknown, schema: z.ZodType): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return `is ${kindOf(value)}, where a point's record belongs`;
  const parsed = schema.safeParse(value);
  const issue = parsed.error?.issues[0];
  if (issue === undefined) return undefined;
  // The field, or the first part of its path that is missing (`sync`, not `sync.count`).
  const at = issue.path.join(".");
  const v = issue.path.reduce<unknown>((o, k) => (o as Record<PropertyKey, unknown>)[k], value);
  if (v === undefined) return `has no ${at}`;
  const expected = issue.code === "invalid_type" ? issue.expected : "other";
  const kind = at.endsWith("paperPct")
    ? "a number or null"
    : `a ${expected === "object" ? "record" : expected}`;
  const shown = v === null ? "" : ` (${JSON.stringify(v)?.slice(0, 40)})`;
  return `has ${at} ${kindOf(v)}${shown}, where ${kind} belongs`;
}

/**
 * The first kept point that does not hold what the sweep's files read, as `point 2 of 7 (paper: 5%
 * loss) has no sync.p50`; undefined when every one does. `results` are the kept points put back
 * where a sweep keeps them; `label` names a step.
 */
export function keptShapeProblem(
  prior: SweepReport,
  results: readonly StepResults[],
  steps: readonly Step[],
  kept: number,
  label: (st: Step) => string,
): string | undefined {
  const seen = results.map(() => ({ loss: 0, setting: 0, fault: 0 }));
  for (const [i, st] of steps.slice(0, kept).entries()) {
    const r = results[st.s] as StepResults;
    const n = seen[st.s] as { loss: number; setting: number; fault: number };
    let problem: string | undefined;
    if (st.kind === "loss") problem = fieldProblem(r.loss[n.loss++], POINT);
    else if (st.kind === "setting") problem = fieldProblem(r.settings[n.setting++], SETTING);
    else if (st.kind === "fault") problem = fieldProblem(r.faults[n.fault++], FAULT);
    else if (!Array.isArray(r.cpu)) problem = "has no rows";
    else
      for (const [k, row] of r.cpu.entries()) {
        const p = fieldProblem(row, CPU_ROW);
        if (p !== undefined) {
          problem = `row ${k + 1} ${p}`;
          break;
        }
      }
    if (problem !== undefined) return `point ${i + 1} of ${steps.length} (${label(st)}) ${problem}`;
  }
  // Whatever else the files read of the report (a fault's row, a field added later).
  try {
    sweepTexts(prior);
  } catch (e) {
    return `cannot be written as the sweep's files (${(e as Error).message})`;
  }
  return undefined;
}
