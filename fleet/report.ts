/**
 * The run report (`--report FILE.json`): the scenario, the paper's metrics and the simulator's own
 * health, plus the check of the paper's requirements that `--assert` turns into an exit code.
 */
import { writeFileSync } from "node:fs";
import type { Summary } from "../sim/histogram.js";

export interface Report {
  readonly scenario: {
    readonly nodes: number;
    readonly profile: string;
    readonly topology: string;
    readonly groupSize: number;
    readonly ratePerNodePerMin: number;
    readonly lossPct: number;
    readonly seed: string;
    readonly durationS: number;
    readonly broker: string;
  };
  readonly presses: number;
  readonly deliveries: number;
  readonly superseded: number;
  readonly sync: {
    readonly p50Ms: number;
    readonly p90Ms: number;
    readonly p99Ms: number;
    readonly maxMs: number;
  };
  readonly lost: number;
  readonly diverged: number;
  readonly divergedNodes: readonly string[];
  readonly registration: {
    readonly p50Ms: number;
    readonly maxMs: number;
    readonly registered: number;
    readonly allMs: readonly number[];
  };
  readonly cpu: { readonly meanPct: number; readonly p99Pct: number; readonly maxPct: number };
  readonly link: {
    readonly segments: number;
    readonly retransmissions: number;
    readonly timeouts: number;
    readonly reconnects: number;
    readonly oversizedDropped: number;
  };
  readonly sim: {
    /** The worst thread's event-loop lag (workers and main). */
    readonly lagP99Ms: number;
    readonly lagMaxMs: number;
    /** Worker threads only (the nodes), and the main thread only (broker, twins, console). */
    readonly workerLagP99Ms: number;
    readonly mainLagP99Ms: number;
    readonly keptUp: boolean;
    readonly rssMB: number;
    readonly workers: number;
    readonly wallS: number;
  };
  readonly requirements: {
    readonly syncP99Under1s: boolean;
    readonly registrationUnder30s: boolean;
    readonly nothingLost: boolean;
    readonly nothingDiverged: boolean;
    readonly simulatorKeptUp: boolean;
  };
  readonly versions: {
    readonly twinfleet: string;
    readonly node: string;
    readonly aedes: string;
    readonly mqtt: string;
  };
}

/** The paper's requirements (sync < 1 s, registration < 30 s, nothing lost) plus convergence. */
export function checkRequirements(r: Omit<Report, "requirements">): Report["requirements"] {
  return {
    syncP99Under1s: r.sync.p99Ms < 1000,
    registrationUnder30s: r.registration.registered === r.scenario.nodes && r.registration.maxMs < 30_000,
    nothingLost: r.lost === 0,
    nothingDiverged: r.diverged === 0,
    simulatorKeptUp: r.sim.keptUp,
  };
}

/** Human-readable failures of the requirements, empty when all hold. */
export function requirementFailures(r: Report): string[] {
  const f: string[] = [];
  if (!r.requirements.syncP99Under1s) f.push(`sync p99 ${r.sync.p99Ms.toFixed(1)} ms is not under 1 s`);
  if (!r.requirements.registrationUnder30s) {
    f.push(
      `registration: ${r.registration.registered}/${r.scenario.nodes} registered, slowest ${(r.registration.maxMs / 1000).toFixed(1)} s (limit 30 s)`,
    );
  }
  if (!r.requirements.nothingLost)
    f.push(`${r.lost} (press, follower) deliveries lost (not reflected within 5 s)`);
  if (!r.requirements.nothingDiverged) f.push(`${r.diverged} nodes diverged from what their pairing implies`);
  if (!r.requirements.simulatorKeptUp) {
    f.push(
      `the simulator did not keep up (event-loop lag p99 ${r.sim.lagP99Ms.toFixed(0)} ms): figures are unreliable`,
    );
  }
  return f;
}

export function syncFields(s: Summary): Report["sync"] {
  return { p50Ms: round(s.p50), p90Ms: round(s.p90), p99Ms: round(s.p99), maxMs: round(s.max) };
}

export function round(v: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

export function writeReport(path: string, r: Report): void {
  writeFileSync(path, `${JSON.stringify(r, null, 2)}\n`);
}
