/**
 * A fault case of a sweep: one fleet run of the scenario's fleet with the case's fault schedule,
 * reduced to what each fault did (recovery, re-registration, presses during it, late and lost) and
 * to the run's figures outside the fault windows, held against the paper's requirement (sync under
 * 1 s, nothing lost). A case that restarts the broker runs it in its own process, so the restart is a
 * real SIGKILL; with `brokerData` its store lives in a temporary directory, removed afterwards (or
 * as the process exits, when a second Ctrl-C stops the sweep during the case).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { faultSpanS } from "../fleet/faults/schedule.js";
import type { Clock } from "../fleet/options.js";
import type { FaultReport, Report } from "../fleet/report.js";
import type { Scheduler } from "../node/scheduler.js";
import { describeEntry, type FaultEntry, faultCaseEntries } from "./fault-schedule.js";
import { type PointResult, type PointSpec, pointSeconds, runPointWithReport } from "./point.js";
import type { FaultCase, Scenario } from "./scenario.js";

export interface FaultCaseResult extends PointResult {
  readonly name: string;
  /** The schedule as the scenario gives it (presets, or entries), and its entries in words. */
  readonly schedule: FaultCase["schedule"];
  readonly described: readonly string[];
  /** The run's broker: in this process or its own, its store in memory or on disk. */
  readonly broker: { readonly kind: "embedded" | "process"; readonly durable: boolean };
  /** Each fault as it happened, in the order they started (docs/metrics.md). */
  readonly faults: readonly FaultReport[];
  /** Sync latency of the (press, follower) pairs outside every fault's window. */
  readonly syncOutsideFaults: {
    readonly count: number;
    readonly p50Ms: number;
    readonly p90Ms: number;
    readonly p99Ms: number;
    readonly maxMs: number;
  };
  /** Pairs reflected after 5 s, never reflected, and not within 5 s outside the fault windows. */
  readonly late: number;
  readonly lostForGood: number;
  readonly lostOutsideFaults: number;
  readonly regressions: number;
  /** The first regressions: which node went back, when (from the start of the presses), from and to which stamp. */
  readonly regressionList: Report["regressionList"];
  readonly requirements: {
    /** Sync p99 outside the fault windows under 1 s. */
    readonly syncP99Under1s: boolean;
    /** Nothing lost for good, nothing later than 5 s outside the fault windows. */
    readonly nothingLost: boolean;
    readonly noRegressions: boolean;
    readonly nothingDiverged: boolean;
    /** Every fault was carried out (none reports an error). */
    readonly faultsCarriedOut: boolean;
  };
  /** Every requirement holds. */
  readonly meetsGoal: boolean;
}

export interface FaultCaseSpec {
  readonly fleet: Scenario["fleet"];
  readonly lossPct: number;
  readonly faultCase: FaultCase;
  readonly tag: string;
  readonly workers?: number;
  /** The run's clock; default a RealScheduler of its own. */
  readonly scheduler?: Scheduler;
  /** Real time (default) or virtual time, where a broker restart is an outage of the in-memory broker. */
  readonly clock?: Clock;
  /** Someone else's broker (externalCaseProblem says which cases cannot run on it). */
  readonly broker?: PointSpec["broker"];
}

/** Faults a virtual run cannot carry out: a twins service, a real client socket, a broker's store. */
export function virtualCaseProblem(c: FaultCase): string | undefined {
  if (c.brokerData === true) return "brokerData needs the real broker's store (run it with --clock real)";
  const kinds = faultCaseEntries(c)
    .map((e) => e.kind)
    .filter((k) => k === "twins-restart" || k === "frozen-client");
  return kinds.length > 0
    ? `${[...new Set(kinds)].join(", ")} needs real time (run it with --clock real)`
    : undefined;
}

/** Faults the sweep cannot carry out on someone else's broker: restarting it, its store. */
export function externalCaseProblem(c: FaultCase): string | undefined {
  if (c.brokerData === true) return "brokerData needs a broker the sweep starts itself (leave out --broker)";
  return faultCaseEntries(c).some((e) => e.kind === "broker-restart")
    ? "broker-restart needs a broker the sweep starts itself (leave out --broker)"
    : undefined;
}

/** How many of a case's regressions it keeps in full. */
const REGRESSIONS_KEPT = 10;

/** Allowance for the fleet to recover after the last fault, for the ETA before any case has run. */
const RECOVERY_GUESS_S = 10;

export async function runFaultCase(spec: FaultCaseSpec): Promise<FaultCaseResult> {
  const c = spec.faultCase;
  const entries = faultCaseEntries(c);
  const virtual = spec.clock === "virtual";
  const restarts = !virtual && entries.some((e) => e.kind === "broker-restart");
  const dataDir =
    c.brokerData === true && !virtual ? mkdtempSync(join(tmpdir(), "twinfleet-sweep-broker-")) : undefined;
  // Removed when the case ends, and also when the process does without ending it (a second Ctrl-C).
  const removeData = () => {
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true, maxRetries: 3 });
  };
  if (dataDir !== undefined) process.on("exit", removeData);
  try {
    const { point, report } = await runPointWithReport({
      fleet: spec.fleet,
      lossPct: spec.lossPct,
      tag: spec.tag,
      faults: { entries, spec: typeof c.schedule === "string" ? c.schedule : JSON.stringify(c.schedule) },
      ...(restarts ? { brokerProcess: true } : {}),
      ...(dataDir !== undefined ? { brokerData: dataDir } : {}),
      ...(spec.workers !== undefined ? { workers: spec.workers } : {}),
      ...(spec.scheduler !== undefined ? { scheduler: spec.scheduler } : {}),
      ...(spec.clock !== undefined ? { clock: spec.clock } : {}),
      ...(spec.broker !== undefined ? { broker: spec.broker } : {}),
    });
    return faultCaseResult(c, entries, point, report);
  } finally {
    process.off("exit", removeData);
    removeData();
  }
}

export function faultCaseResult(
  c: FaultCase,
  entries: readonly FaultEntry[],
  point: PointResult,
  r: Report,
): FaultCaseResult {
  const outside = r.syncOutsideFaults ?? { count: point.sync.count, ...r.sync };
  const requirements = {
    syncP99Under1s: r.requirements.syncP99Under1s,
    nothingLost: r.requirements.nothingLost,
    noRegressions: r.requirements.noRegressions,
    nothingDiverged: r.requirements.nothingDiverged,
    faultsCarriedOut: r.faults.length === entries.length && r.faults.every((f) => f.error === undefined),
  };
  return {
    ...point,
    name: c.name,
    schedule: c.schedule,
    described: entries.map(describeEntry),
    broker: {
      kind: r.scenario.brokerKind === "process" ? "process" : "embedded",
      durable: r.scenario.brokerDurable,
    },
    faults: [...r.faults].sort((a, b) => a.atMs - b.atMs),
    syncOutsideFaults: {
      count: outside.count,
      p50Ms: outside.p50Ms,
      p90Ms: outside.p90Ms,
      p99Ms: outside.p99Ms,
      maxMs: outside.maxMs,
    },
    late: r.late,
    lostForGood: r.lostForGood,
    lostOutsideFaults: r.lostOutsideFaults,
    regressions: r.regressions,
    regressionList: r.regressionList.slice(0, REGRESSIONS_KEPT),
    requirements,
    meetsGoal: Object.values(requirements).every((v) => v),
  };
}

/** Modeled seconds a case takes, for the ETA: a point, the faults past the presses, the recovery. */
export function faultCaseSeconds(f: Scenario["fleet"], c: FaultCase): number {
  const entries = faultCaseEntries(c);
  const lastEnd = Math.max(0, ...entries.map((e) => faultSpanS(e).to));
  return pointSeconds(f) + Math.max(0, lastEnd - f.seconds) + RECOVERY_GUESS_S;
}
