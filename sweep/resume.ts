/**
 * Resuming a sweep stopped before its last point (`twinfleet sweep --resume`): what a report records
 * of how it was made (its format, the twinfleet that wrote it, its plan), the check that a new run
 * asks for the same sweep, and the points done it keeps. Every point is seeded by its scenario and
 * its own tag, so a kept point is the point the uninterrupted sweep would have run.
 */
import type { Clock } from "../fleet/options.js";
import { VERSION } from "../node/version.js";
import { OptionError } from "../protocol/option-error.js";
import { keptShapeProblem } from "./resume-shape.js";
import type { Scenario } from "./scenario.js";
import { type Step, type StepResults, stepLabel } from "./steps.js";
import type { ScenarioResult, SweepReport } from "./sweep.js";

/** The report.json layout a resumed sweep can read; those before it recorded no plan. */
export const SWEEP_FORMAT = 2;

/** What decides a sweep's points: a resumed sweep must ask for the same. */
export interface SweepPlan {
  readonly quick: boolean;
  readonly clock: Clock;
  /** `--workers`; null: the default. */
  readonly workers: number | null;
  /** Someone else's broker (no password); null: the sweep's own. */
  readonly broker: string | null;
  /** The scenarios as run: after --quick, --nodes and --seconds (their seeds too); without `$about`. */
  readonly scenarios: readonly Scenario[];
}

export class ResumeError extends OptionError {
  override readonly name = "ResumeError";
}

export function sweepPlan(
  scenarios: readonly Scenario[],
  o: { quick: boolean; clock?: Clock; workers?: number; broker?: string },
): SweepPlan {
  // As JSON has it: what the report holds is compared with what this run asks.
  const plain = scenarios.map(({ $about: _, ...sc }) => JSON.parse(JSON.stringify(sc)) as Scenario);
  return {
    quick: o.quick,
    clock: o.clock ?? "real",
    workers: o.workers ?? null,
    broker: o.broker ?? null,
    scenarios: plain,
  };
}

/**
 * `prior` (report.json as parsed, from `path`) checked to be a sweep this twinfleet wrote with the
 * same plan; anything else a ResumeError naming what differs.
 */
export function resumable(prior: unknown, plan: SweepPlan, path: string): SweepReport {
  const fail = (why: string) => new ResumeError(`--resume: ${path} ${why}`);
  const r = prior as Partial<SweepReport> | null;
  if (typeof r !== "object" || r === null || r.kind !== "twinfleet-sweep")
    throw fail("is not a twinfleet sweep report");
  // A newer build's: run again here, it would write over the points that build kept in --out.
  if (typeof r.format === "number" && r.format > SWEEP_FORMAT)
    throw fail(
      `is in report format ${r.format}, written by a newer twinfleet${r.twinfleet === undefined ? "" : ` (${r.twinfleet})`}; this one reads format ${SWEEP_FORMAT}: resume it with the twinfleet that wrote it (run here without --resume, this sweep would write over its points; give another --out to keep them)`,
    );
  if (
    r.format !== SWEEP_FORMAT ||
    typeof r.plan !== "object" ||
    r.plan === null ||
    !Array.isArray(r.plan.scenarios)
  )
    throw fail(
      `was written by ${r.twinfleet === undefined ? "an older twinfleet" : `twinfleet ${r.twinfleet}`} (report format ${r.format ?? 1}), which this one (format ${SWEEP_FORMAT}) cannot resume: run the sweep again without --resume`,
    );
  if (r.twinfleet !== VERSION)
    throw fail(
      `was written by twinfleet ${r.twinfleet}, this is ${VERSION}: its points may differ from this version's; run the sweep again without --resume (it writes over those points: give another --out to keep them), or resume with the twinfleet that wrote it`,
    );
  const differs = planDifference(r.plan, plan);
  if (differs !== undefined)
    throw fail(`is another sweep: ${differs}; resume with the flags it was run with, or use another --out`);
  return r as SweepReport;
}

/** What in `now` differs from `was` (the report's), in the words of the flag that decides it. */
export function planDifference(was: SweepPlan, now: SweepPlan): string | undefined {
  const said = (v: unknown) => (v === null ? "none" : JSON.stringify(v));
  if (was.quick !== now.quick)
    return `--quick: it was run ${was.quick ? "with" : "without"} it, this run ${now.quick ? "with" : "without"}`;
  if (was.clock !== now.clock) return `--clock: it ran on ${was.clock} time, this run asks ${now.clock}`;
  if (was.workers !== now.workers)
    return `--workers: it ran with ${was.workers ?? "the default"}, this run asks ${now.workers ?? "the default"}`;
  if (was.broker !== now.broker)
    return `--broker: it ran on ${was.broker ?? "its own broker"}, this run on ${now.broker ?? "its own broker"}`;
  const names = (p: SweepPlan) => p.scenarios.map((s) => s.name).join(",");
  if (names(was) !== names(now)) return `--scenario: it ran ${names(was)}, this run asks ${names(now)}`;
  for (const [i, sc] of now.scenarios.entries()) {
    const path = firstDifference(was.scenarios[i], sc, "");
    if (path !== undefined) {
      const field = path.slice(1);
      const how = /^fleet\.(nodes|seconds)$/.test(field)
        ? ` (--${field.slice(6)}, --quick)`
        : " (its scenario file, or --quick)";
      return `scenario ${sc.name}: ${field} was ${said(get(was.scenarios[i], path))}, this run has ${said(get(sc, path))}${how}`;
    }
  }
  return undefined;
}

/** The first path (`.fleet.seed`, `.loss.levelsPct.2`) where two JSON values differ. */
function firstDifference(a: unknown, b: unknown, path: string): string | undefined {
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null)
    return a === b ? undefined : path;
  if (Array.isArray(a) !== Array.isArray(b)) return path;
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  for (const k of keys) {
    const d = firstDifference(
      (a as Record<string, unknown>)[k],
      (b as Record<string, unknown>)[k],
      `${path}.${k}`,
    );
    if (d !== undefined) return d;
  }
  return undefined;
}

function get(v: unknown, path: string): unknown {
  return path
    .split(".")
    .slice(1)
    .reduce<unknown>(
      (o, k) => (typeof o === "object" && o !== null ? (o as Record<string, unknown>)[k] : undefined),
      v,
    );
}

/**
 * The points `prior` (checked by `resumable`) finished, put back where a sweep keeps them, and how
 * many steps that is: those before its cut (the point that failed is run again). A report whose
 * tables do not hold exactly the points its cut says (edited by hand) is refused.
 */
export function keptResults(
  prior: SweepReport,
  steps: readonly Step[],
  path: string,
): { readonly kept: number; readonly results: StepResults[] } {
  const fail = (why: string) => new ResumeError(`--resume: ${path} ${why}`);
  if ((prior.cutShort?.of ?? steps.length) !== steps.length)
    throw fail(`says its sweep has ${prior.cutShort?.of} points, this one has ${steps.length}`);
  const kept = prior.cutShort?.done ?? steps.length;
  if (!Array.isArray(prior.scenarios) || !Number.isInteger(kept) || kept < 0 || kept > steps.length)
    throw fail(
      `does not hold the points it says it ran (was it edited?): run the sweep again without --resume`,
    );
  // As found: what is not a list counts as none, and the counts below refuse it.
  const list = <T>(v: readonly T[] | undefined): T[] => (Array.isArray(v) ? [...v] : []);
  const results: StepResults[] = prior.scenarios.map((s: Partial<ScenarioResult> | null) => ({
    loss: list(s?.loss),
    cpu: s?.cpu?.rows === undefined ? undefined : list(s.cpu.rows),
    settings: list(s?.settings?.points),
    faults: list(s?.faults?.cases),
  }));
  const want = prior.scenarios.map(() => ({ loss: 0, cpu: 0, setting: 0, fault: 0 }));
  for (const st of steps.slice(0, kept)) {
    const w = want[st.s];
    if (w) w[st.kind] += 1;
  }
  const holds = results.every((r, s) => {
    const w = want[s];
    return (
      w !== undefined &&
      r.loss.length === w.loss &&
      (r.cpu === undefined ? 0 : 1) === w.cpu &&
      r.settings.length === w.setting &&
      r.faults.length === w.fault
    );
  });
  if (!holds || results.length !== want.length)
    throw fail(
      `does not hold the ${kept} points it says it ran (was it edited?): run the sweep again without --resume`,
    );
  const scenarios = prior.plan?.scenarios ?? [];
  const problem = keptShapeProblem(prior, results, steps, kept, (st) =>
    stepLabel(scenarios[st.s] as Scenario, st),
  );
  if (problem !== undefined)
    throw fail(
      `${problem} (was it edited?): put back the report as the sweep wrote it, or run the sweep again without --resume`,
    );
  return { kept, results };
}
