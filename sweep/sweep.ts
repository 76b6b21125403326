/**
 * A sweep: the points of one or more scenarios run one after another (each a short fleet run — at a
 * loss level, with device settings, or with a fault case's schedule — or for the CPU table a
 * fake-time pair of nodes), with a progress line per point and an ETA, gathered into one SweepReport.
 */
import { type Clock, type FieldNamer, FleetOptionsError } from "../fleet/options.js";
import { applyProfileOverrides } from "../fleet/profile-overrides.js";
import { type DeviceProfile, loadProfile, ProfileError } from "../node/profile.js";
import { RealScheduler, type Scheduler, sleep } from "../node/scheduler.js";
import { VERSION } from "../node/version.js";
import { assertNever } from "../protocol/index.js";
import { BrokerConnectError, type BrokerLogin, displayUrl } from "../twins/index.js";
import { type CpuRow, PAPER_CPU } from "./cpu.js";
import {
  externalCaseProblem,
  type FaultCaseResult,
  faultCaseSeconds,
  virtualCaseProblem,
} from "./fault-cases.js";
import { type PointResult, pointSeconds, VIRTUAL_WARM_UP_S, virtualSeconds } from "./point.js";
import { keptResults, resumable, SWEEP_FORMAT, type SweepPlan, sweepPlan } from "./resume.js";
import { type FaultCase, type Scenario, ScenarioError } from "./scenario.js";
import { LIMITS, runStep, type SettingsPoint, type Step, type StepResults, stepLabel } from "./steps.js";

export { LIMITS, type SettingsPoint } from "./steps.js";

/** A variant's overrides are named as the scenario file names them. */
const overridesName: FieldNamer = (_field, subpath) => `overrides${subpath ? `.${subpath}` : ""}`;

export interface ScenarioResult {
  readonly name: string;
  readonly fleet: Scenario["fleet"];
  readonly loss?: readonly PointResult[];
  readonly cpu?: {
    readonly params: NonNullable<Scenario["cpu"]>;
    readonly rows: readonly CpuRow[];
  };
  readonly settings?: {
    readonly lossPct: readonly number[];
    readonly points: readonly SettingsPoint[];
  };
  readonly faults?: {
    readonly lossPct: number;
    readonly cases: readonly FaultCaseResult[];
  };
}

export interface SweepReport {
  readonly kind: "twinfleet-sweep";
  /** The report's layout (SWEEP_FORMAT); absent in those before a sweep could be resumed. */
  readonly format?: number;
  /** The twinfleet that ran its points. */
  readonly twinfleet?: string;
  /** What decided its points, for `--resume` to check a new run against. */
  readonly plan?: SweepPlan;
  readonly quick: boolean;
  readonly startedAt: string;
  readonly wallS: number;
  readonly limits: typeof LIMITS;
  readonly paperCpu: typeof PAPER_CPU;
  /** True when every fleet point's simulator kept up (event-loop lag p99 under 50 ms). */
  readonly allKeptUp: boolean;
  readonly scenarios: readonly ScenarioResult[];
  /** Someone else's broker every fleet point ran on (without its password); absent: the sweep's own. */
  readonly broker?: string;
  /**
   * Set when the sweep was stopped before its last point: the points it had finished, and, when a
   * point failed (its broker gone, its ids taken) rather than Ctrl-C stopping it, which and why.
   */
  readonly cutShort?: {
    readonly done: number;
    readonly of: number;
    readonly failed?: { readonly point: string; readonly error: string };
    /**
     * Written after a point while the sweep still ran (`onCheckpoint`): found so once the sweep is
     * gone, it was killed (kill -9, out of memory, a power cut) or stopped at once (a second Ctrl-C).
     */
    readonly inProgress?: true;
    /** The signal that stopped it when not Ctrl-C (SIGINT): SIGTERM (systemd, kill), SIGHUP (a closed terminal). */
    readonly signal?: string;
  };
  /** Each time the sweep was resumed (`--resume`): when, and how many points done it kept. */
  readonly resumed?: readonly { readonly at: string; readonly kept: number }[];
}

export interface SweepProgress {
  readonly index: number;
  readonly total: number;
  readonly label: string;
  readonly elapsedS: number;
  readonly etaS: number;
  readonly point?: PointResult;
  /** Set when the step was a fault case (its point is then the same run). */
  readonly faultCase?: FaultCaseResult;
}

export interface SweepOptions {
  readonly quick: boolean;
  readonly workers?: number;
  /**
   * Real time (default), or every fleet point on virtual time (fleet/virtual.ts): the sweep's own
   * scheduler then only times the sweep.
   */
  readonly clock?: Clock;
  /**
   * Someone else's broker for every fleet point (`mqtt://[user:password@]host:port`, real time only):
   * its own delay is then in the figures. Fault cases that restart the broker or need its store are refused.
   */
  readonly broker?: string;
  /** With `broker`: the login of the sweep's twins service and tools (a login in the URL counts too). */
  readonly login?: BrokerLogin;
  /** With `broker`: the password each node logs in with, as its node id. */
  readonly nodePassword?: string;
  /** The clock of the sweep and of every fleet run in it (real time: the runs' workers follow it). Default a RealScheduler. */
  readonly scheduler?: Scheduler;
  readonly onPoint?: (p: SweepProgress) => void;
  /**
   * After each point but the last, before its onPoint: the report of the points done so far, marked
   * `cutShort.inProgress`, for the caller to write, so that a sweep killed before its end (kill -9,
   * out of memory, a power cut) leaves them for `--resume`.
   */
  readonly onCheckpoint?: (r: SweepReport) => void;
  /**
   * Before the first point: how many steps, and the estimate of the wall time of those to run; when
   * resumed, the labels of the points kept and of those to run.
   */
  readonly onStart?: (plan: {
    readonly total: number;
    readonly etaS: number;
    readonly kept?: readonly string[];
    readonly toRun?: readonly string[];
  }) => void;
  /** With `broker`: a point waits for the broker lost since the point before, and its end (BROKER_WAIT_MS). */
  readonly onBrokerWait?: (news: BrokerWaitNews) => void;
  /** How long that wait may last; default BROKER_WAIT_MS. */
  readonly brokerWaitMs?: number;
  /**
   * Aborted: no further point starts; the report holds the points finished (`cutShort`). Aborted
   * with a signal's name other than SIGINT as its reason, `cutShort.signal` names it.
   */
  readonly signal?: AbortSignal;
  /**
   * A report of this sweep stopped before its last point (report.json as parsed, and where it was
   * read): its points done are kept, the rest run, and the report is the whole sweep's.
   */
  readonly resume?: { readonly report: unknown; readonly path: string };
}

/**
 * How long a sweep on someone else's broker waits, before a point, for the broker lost since the
 * point before to answer again (a restart, a reboot), and how often it tries meanwhile.
 */
export const BROKER_WAIT_MS = 60_000;
const BROKER_RETRY_MS = 2000;

/** The sweep waits for its broker before a point (`error`), or the broker answered again (`backAfterS`). */
export type BrokerWaitNews =
  | { readonly point: string; readonly error: string; readonly waitS: number }
  | { readonly point: string; readonly backAfterS: number };

/**
 * The ETA after a step: the remaining fleet steps' estimates scaled by how the fleet steps so far
 * took against theirs (`done`: the host's speed and load), and the CPU table's own estimates. The
 * warm-up the first fleet point paid (`warmUpS`) counts with that point's estimate, so it is not
 * taken for the pace of every point: the full virtual sweep said "ETA 34 s" after its first point and ended 11 s later.
 */
export function remainingS(
  done: { readonly wallS: number; readonly estimateS: number },
  rest: readonly { readonly fleet: boolean; readonly estimateS: number }[],
  warmUpS: number,
): number {
  const ran = done.estimateS > 0;
  const scale = ran ? done.wallS / (done.estimateS + warmUpS) : 1;
  const toCome = !ran && rest.some((r) => r.fleet) ? warmUpS : 0;
  return rest.reduce((a, r) => a + (r.fleet ? r.estimateS * scale : r.estimateS), toCome);
}

/** Runs every point of the (already adjusted) scenarios in order. */
export async function runSweep(scenarios: readonly Scenario[], o: SweepOptions): Promise<SweepReport> {
  const sched = o.scheduler ?? new RealScheduler();
  const t0 = sched.now();
  const startedAt = new Date(sched.wallNow()).toISOString();
  // Check every variant's overrides before the first point runs: a typo should not cost a sweep.
  for (const sc of scenarios) {
    const base = scenarioProfile(sc);
    for (const v of sc.settings?.variants ?? []) {
      try {
        applyProfileOverrides(base, v.overrides);
      } catch (e) {
        if (!(e instanceof FleetOptionsError)) throw e;
        throw new ScenarioError(`scenario ${sc.name}, variant ${v.name}: ${e.describe(overridesName)}`);
      }
    }
  }
  if (o.broker !== undefined && o.clock === "virtual")
    throw new ScenarioError(
      "someone else's broker needs real time: a virtual sweep runs on an in-memory broker",
    );
  const caseProblem =
    o.clock === "virtual"
      ? virtualCaseProblem
      : o.broker !== undefined
        ? externalCaseProblem
        : () => undefined;
  for (const sc of scenarios) {
    for (const c of sc.faults?.cases ?? []) {
      const problem = caseProblem(c);
      if (problem) throw new ScenarioError(`scenario ${sc.name}, fault case ${c.name}: ${problem}`);
    }
  }
  const steps: Step[] = scenarios.flatMap((sc, s): Step[] => [
    ...(sc.loss?.levelsPct.map((lossPct): Step => ({ kind: "loss", s, lossPct })) ?? []),
    ...(sc.cpu ? [{ kind: "cpu", s } as const] : []),
    ...(sc.settings?.variants.flatMap((_, v) =>
      (sc.settings?.lossPct ?? []).map((lossPct): Step => ({ kind: "setting", s, v, lossPct })),
    ) ?? []),
    ...(sc.faults?.cases.map((_, c): Step => ({ kind: "fault", s, c })) ?? []),
  ]);
  // On virtual time a point takes a fraction of its modeled seconds, and the CPU table (fake time
  // on either clock) about a second of the full sweep's 2.
  const onWall = (nodes: number, s: number) => (o.clock === "virtual" ? virtualSeconds(nodes, s) : s);
  const estimate = (st: Step): number => {
    const sc = scenarios[st.s] as Scenario;
    switch (st.kind) {
      case "cpu":
        return o.clock === "virtual" ? 1 : 5;
      case "loss":
      case "setting":
        return onWall(sc.fleet.nodes, pointSeconds(sc.fleet));
      case "fault":
        return onWall(sc.fleet.nodes, faultCaseSeconds(sc.fleet, sc.faults?.cases[st.c] as FaultCase));
      default:
        assertNever(st);
    }
  };
  const plan = sweepPlan(scenarios, {
    quick: o.quick,
    ...(o.clock !== undefined ? { clock: o.clock } : {}),
    ...(o.workers !== undefined ? { workers: o.workers } : {}),
    ...(o.broker !== undefined ? { broker: displayUrl(o.broker) } : {}),
  });
  const prior = o.resume ? resumable(o.resume.report, plan, o.resume.path) : undefined;
  const { kept, results } =
    prior && o.resume
      ? keptResults(prior, steps, o.resume.path)
      : {
          kept: 0,
          results: scenarios.map((): StepResults => ({ loss: [], cpu: undefined, settings: [], faults: [] })),
        };
  const toRun = steps.slice(kept);
  // The first fleet point of a virtual sweep also pays the process's warm-up, once.
  const warmUpS = o.clock === "virtual" && toRun.some((st) => st.kind !== "cpu") ? VIRTUAL_WARM_UP_S : 0;
  const labelOf = (st: Step) => stepLabel(scenarios[st.s] as Scenario, st);
  o.onStart?.({
    total: steps.length,
    etaS: warmUpS + toRun.reduce((a, st) => a + estimate(st), 0),
    ...(prior ? { kept: steps.slice(0, kept).map(labelOf), toRun: toRun.map(labelOf) } : {}),
  });
  // The report of the points done: at the end, or after each point while the sweep runs (`inProgress`).
  const reportOf = (
    done: number,
    failed: { readonly point: string; readonly error: string } | undefined,
    inProgress = false,
  ): SweepReport => {
    const scenarioResults: ScenarioResult[] = scenarios.map((sc, s) => {
      const r = results[s] as (typeof results)[number];
      return {
        name: sc.name,
        fleet: sc.fleet,
        ...(sc.loss ? { loss: [...r.loss] } : {}),
        ...(sc.cpu && r.cpu ? { cpu: { params: sc.cpu, rows: r.cpu } } : {}),
        ...(sc.settings ? { settings: { lossPct: sc.settings.lossPct, points: [...r.settings] } } : {}),
        ...(sc.faults ? { faults: { lossPct: sc.faults.lossPct, cases: [...r.faults] } } : {}),
      };
    });
    const fleetPoints = scenarioResults.flatMap((s) => [
      ...(s.loss ?? []),
      ...(s.settings?.points ?? []),
      ...(s.faults?.cases ?? []),
    ]);
    // Resumed: the sweep began when its first run did, and its wall time is that of its runs together.
    const wallS = Math.round((sched.now() - t0) / 100) / 10 + (prior?.wallS ?? 0);
    const by = o.signal?.aborted && !failed && !inProgress ? o.signal.reason : undefined;
    const cut = {
      done,
      of: steps.length,
      ...(failed ? { failed } : {}),
      ...(inProgress ? { inProgress: true as const } : {}),
      ...(typeof by === "string" && by !== "SIGINT" ? { signal: by } : {}),
    };
    return {
      kind: "twinfleet-sweep",
      format: SWEEP_FORMAT,
      twinfleet: VERSION,
      plan,
      quick: o.quick,
      startedAt: prior?.startedAt ?? startedAt,
      wallS: Math.round(wallS * 10) / 10,
      limits: LIMITS,
      paperCpu: PAPER_CPU,
      allKeptUp: fleetPoints.every((p) => p.sim.keptUp),
      scenarios: scenarioResults,
      ...(o.broker !== undefined ? { broker: displayUrl(o.broker) } : {}),
      ...(done < steps.length ? { cutShort: cut } : {}),
      ...(prior && (prior.resumed || kept < steps.length)
        ? { resumed: [...(prior.resumed ?? []), ...(kept < steps.length ? [{ at: startedAt, kept }] : [])] }
        : {}),
    };
  };
  // Fleet steps' wall time against their estimates so far: the ETA scales the rest's estimates by it.
  let fleetWall = 0;
  let fleetEstimated = 0;
  let done = kept;
  let failed: { readonly point: string; readonly error: string } | undefined;
  const waitMs = o.brokerWaitMs ?? BROKER_WAIT_MS;
  for (const [i, st] of steps.entries()) {
    if (i < kept) continue;
    if (o.signal?.aborted) break;
    const sc = scenarios[st.s] as Scenario;
    const out = results[st.s] as (typeof results)[number];
    const label = stepLabel(sc, st);
    let point: PointResult | undefined;
    let faultCase: FaultCaseResult | undefined;
    const name = `${label} (${i + 1} of ${steps.length})`;
    let waitedSince: number | undefined;
    let started = sched.now();
    let ran = false;
    while (!ran) {
      started = sched.now(); // the point's own wall time, for the ETA: not the wait for its broker
      try {
        ({ point, faultCase } = await runStep(sc, st, out, sched, o));
        ran = true;
      } catch (e) {
        // Nothing run yet: the sweep's failure is the point's (its broker cannot be reached, say).
        // Otherwise the points done are kept, and the report says which point failed and why.
        if (done === 0 || !(e instanceof Error)) throw e;
        // Someone else's broker lost between points (restarted, rebooting): waited for, a while.
        const waiting = o.broker !== undefined && e instanceof BrokerConnectError && e.transient;
        const now = sched.now();
        if (!waiting || now - (waitedSince ?? now) >= waitMs) {
          failed = { point: name, error: e.message };
          break;
        }
        if (waitedSince === undefined) {
          waitedSince = now;
          o.onBrokerWait?.({ point: name, error: e.message, waitS: waitMs / 1000 });
        }
        await sleep(sched, BROKER_RETRY_MS);
        if (o.signal?.aborted) break;
      }
    }
    // Failed, or stopped (Ctrl-C) while it waited for the broker: no further point.
    if (!ran) break;
    if (waitedSince !== undefined)
      o.onBrokerWait?.({ point: name, backAfterS: (started - waitedSince) / 1000 });
    done = i + 1;
    if (st.kind !== "cpu") {
      fleetWall += (sched.now() - started) / 1000;
      fleetEstimated += estimate(st);
    }
    // Written before the point's line: once the line is out, a kill leaves this point for --resume.
    if (done < steps.length) o.onCheckpoint?.(reportOf(done, undefined, true));
    const rest = steps.slice(i + 1).map((r) => ({ fleet: r.kind !== "cpu", estimateS: estimate(r) }));
    const etaS = remainingS({ wallS: fleetWall, estimateS: fleetEstimated }, rest, warmUpS);
    o.onPoint?.({
      index: i + 1,
      total: steps.length,
      label,
      elapsedS: (sched.now() - t0) / 1000,
      etaS,
      ...(point ? { point } : {}),
      ...(faultCase ? { faultCase } : {}),
    });
  }
  return reportOf(done, failed);
}

/** The scenario's device profile; one that cannot be loaded names the scenario and its field. */
function scenarioProfile(sc: Scenario): DeviceProfile {
  try {
    return loadProfile(sc.fleet.profile);
  } catch (e) {
    if (!(e instanceof ProfileError)) throw e;
    throw new ScenarioError(`scenario ${sc.name}: fleet.profile: ${e.message}`);
  }
}
