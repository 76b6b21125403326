/**
 * A sweep: the points of one or more scenarios run one after another (each a short fleet run — at a
 * loss level, with device settings, or with a fault case's schedule — or for the CPU table a
 * fake-time pair of nodes), with a progress line per point and an ETA, gathered into one SweepReport.
 */
import { type Clock, type FieldNamer, FleetOptionsError, type ProfileOverrides } from "../fleet/options.js";
import { applyProfileOverrides } from "../fleet/profile-overrides.js";
import { loadProfile } from "../node/profile.js";
import { RealScheduler, type Scheduler } from "../node/scheduler.js";
import { assertNever } from "../protocol/index.js";
import { type BrokerLogin, displayUrl, splitBrokerUrl } from "../twins/index.js";
import { type CpuRow, PAPER_CPU, runCpuTable } from "./cpu.js";
import {
  externalCaseProblem,
  type FaultCaseResult,
  faultCaseSeconds,
  runFaultCase,
  virtualCaseProblem,
} from "./fault-cases.js";
import {
  type PointResult,
  type PointSpec,
  pointSeconds,
  runPoint,
  VIRTUAL_WARM_UP_S,
  virtualSeconds,
} from "./point.js";
import { type FaultCase, type Scenario, ScenarioError } from "./scenario.js";

/** A variant's overrides are named as the scenario file names them. */
const overridesName: FieldNamer = (_field, subpath) => `overrides${subpath ? `.${subpath}` : ""}`;

/** The paper's requirements the figures are held against. */
export const LIMITS = { syncMs: 1000, registrationMs: 30_000, lostAfterMs: 5000 } as const;

export interface SettingsPoint extends PointResult {
  readonly variant: string;
  readonly how: string;
  readonly overrides: ProfileOverrides;
  /** Sync p99 under 1 s and nothing lost. */
  readonly meetsGoal: boolean;
}

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
  /** Set when the sweep was stopped before its last point (Ctrl-C): the points it had finished. */
  readonly cutShort?: { readonly done: number; readonly of: number };
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
  /** Before the first point: how many steps, and the estimate of the whole sweep's wall time. */
  readonly onStart?: (plan: { readonly total: number; readonly etaS: number }) => void;
  /** Aborted: no further point starts; the report holds the points finished (`cutShort`). */
  readonly signal?: AbortSignal;
}

type Step =
  | { readonly kind: "loss"; readonly s: number; readonly lossPct: number }
  | { readonly kind: "cpu"; readonly s: number }
  | { readonly kind: "setting"; readonly s: number; readonly v: number; readonly lossPct: number }
  | { readonly kind: "fault"; readonly s: number; readonly c: number };

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
    const base = loadProfile(sc.fleet.profile);
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
  const results: {
    loss: PointResult[];
    cpu: CpuRow[] | undefined;
    settings: SettingsPoint[];
    faults: FaultCaseResult[];
  }[] = scenarios.map(() => ({ loss: [], cpu: undefined, settings: [], faults: [] }));
  // The first fleet point of a virtual sweep also pays the process's warm-up, once.
  const warmUpS = o.clock === "virtual" && steps.some((st) => st.kind !== "cpu") ? VIRTUAL_WARM_UP_S : 0;
  o.onStart?.({ total: steps.length, etaS: warmUpS + steps.reduce((a, st) => a + estimate(st), 0) });
  // Fleet steps' wall time against their estimates so far: the ETA scales the rest's estimates by it.
  let fleetWall = 0;
  let fleetEstimated = 0;
  let done = 0;
  for (const [i, st] of steps.entries()) {
    if (o.signal?.aborted) break;
    done = i + 1;
    const sc = scenarios[st.s] as Scenario;
    const out = results[st.s] as (typeof results)[number];
    let label: string;
    let point: PointResult | undefined;
    let faultCase: FaultCaseResult | undefined;
    const started = sched.now();
    switch (st.kind) {
      case "loss":
        label = `${sc.name}: ${st.lossPct}% loss`;
        point = await runPoint({
          fleet: sc.fleet,
          lossPct: st.lossPct,
          tag: `loss-${st.lossPct}`,
          scheduler: sched,
          ...w(o),
        });
        out.loss.push(point);
        break;
      case "cpu": {
        const cpu = sc.cpu as NonNullable<Scenario["cpu"]>;
        label = `${sc.name}: CPU table (${cpu.minutes} modeled min per case)`;
        out.cpu = runCpuTable(loadProfile(sc.fleet.profile), cpu.lossPct, cpu, sc.fleet.seed);
        break;
      }
      case "setting": {
        const v = sc.settings?.variants[st.v] as NonNullable<Scenario["settings"]>["variants"][number];
        label = `${sc.name}: ${v.name} at ${st.lossPct}% loss`;
        point = await runPoint({
          fleet: sc.fleet,
          lossPct: st.lossPct,
          overrides: v.overrides,
          tag: `setting-${st.v}-${st.lossPct}`,
          scheduler: sched,
          ...w(o),
        });
        out.settings.push({
          ...point,
          variant: v.name,
          how: v.how,
          overrides: v.overrides,
          meetsGoal: point.sync.p99 < LIMITS.syncMs && point.lost === 0 && point.echoLate === 0,
        });
        break;
      }
      case "fault": {
        const faults = sc.faults as NonNullable<Scenario["faults"]>;
        const c = faults.cases[st.c] as FaultCase;
        label = `${sc.name}: fault case ${c.name}`;
        faultCase = await runFaultCase({
          fleet: sc.fleet,
          lossPct: faults.lossPct,
          faultCase: c,
          tag: `fault-${st.c}`,
          scheduler: sched,
          ...w(o),
        });
        point = faultCase;
        out.faults.push(faultCase);
        break;
      }
      default:
        assertNever(st);
    }
    if (st.kind !== "cpu") {
      fleetWall += (sched.now() - started) / 1000;
      fleetEstimated += estimate(st);
    }
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
  const scenarioResults: ScenarioResult[] = scenarios.map((sc, s) => {
    const r = results[s] as (typeof results)[number];
    return {
      name: sc.name,
      fleet: sc.fleet,
      ...(sc.loss ? { loss: r.loss } : {}),
      ...(sc.cpu && r.cpu ? { cpu: { params: sc.cpu, rows: r.cpu } } : {}),
      ...(sc.settings ? { settings: { lossPct: sc.settings.lossPct, points: r.settings } } : {}),
      ...(sc.faults ? { faults: { lossPct: sc.faults.lossPct, cases: r.faults } } : {}),
    };
  });
  const fleetPoints = scenarioResults.flatMap((s) => [
    ...(s.loss ?? []),
    ...(s.settings?.points ?? []),
    ...(s.faults?.cases ?? []),
  ]);
  return {
    kind: "twinfleet-sweep",
    quick: o.quick,
    startedAt,
    wallS: Math.round((sched.now() - t0) / 100) / 10,
    limits: LIMITS,
    paperCpu: PAPER_CPU,
    allKeptUp: fleetPoints.every((p) => p.sim.keptUp),
    scenarios: scenarioResults,
    ...(o.broker !== undefined ? { broker: displayUrl(o.broker) } : {}),
    ...(done < steps.length ? { cutShort: { done, of: steps.length } } : {}),
  };
}

/** What every fleet point takes from the sweep's options. */
function w(o: SweepOptions): Pick<PointSpec, "workers" | "clock" | "broker"> {
  return {
    ...(o.workers !== undefined ? { workers: o.workers } : {}),
    ...(o.clock !== undefined ? { clock: o.clock } : {}),
    ...(o.broker !== undefined ? { broker: brokerOf(o.broker, o) } : {}),
  };
}

/** A broker URL as the fleet run takes it: the address, the login given or written in it, the nodes' password. */
function brokerOf(raw: string, o: SweepOptions): NonNullable<PointSpec["broker"]> {
  const { url, username, password } = splitBrokerUrl(raw);
  return {
    url,
    login: {
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password } : {}),
      ...o.login,
    },
    ...(o.nodePassword !== undefined ? { nodePassword: o.nodePassword } : {}),
  };
}
