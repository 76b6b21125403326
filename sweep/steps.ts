/**
 * One step of a sweep and how it runs: a loss point, the CPU table, a settings point or a fault case,
 * each put where the report keeps it. Also the paper's limits the points are held against.
 */
import type { ProfileOverrides } from "../fleet/options.js";
import { loadProfile } from "../node/profile.js";
import type { Scheduler } from "../node/scheduler.js";
import { assertNever } from "../protocol/index.js";
import { type BrokerLogin, splitBrokerUrl } from "../twins/index.js";
import { type CpuRow, runCpuTable } from "./cpu.js";
import { type FaultCaseResult, runFaultCase } from "./fault-cases.js";
import { type PointResult, type PointSpec, runPoint } from "./point.js";
import type { FaultCase, Scenario } from "./scenario.js";

/** The paper's requirements the figures are held against. */
export const LIMITS = { syncMs: 1000, registrationMs: 30_000, lostAfterMs: 5000 } as const;

export interface SettingsPoint extends PointResult {
  readonly variant: string;
  readonly how: string;
  readonly overrides: ProfileOverrides;
  /** Sync p99 under 1 s and nothing lost. */
  readonly meetsGoal: boolean;
}

export type Step =
  | { readonly kind: "loss"; readonly s: number; readonly lossPct: number }
  | { readonly kind: "cpu"; readonly s: number }
  | { readonly kind: "setting"; readonly s: number; readonly v: number; readonly lossPct: number }
  | { readonly kind: "fault"; readonly s: number; readonly c: number };

/** Where a scenario's results go as its steps finish. */
export interface StepResults {
  loss: PointResult[];
  cpu: CpuRow[] | undefined;
  settings: SettingsPoint[];
  faults: FaultCaseResult[];
}

/** What every fleet point takes from the sweep's options. */
export interface StepOptions {
  readonly workers?: number;
  readonly clock?: PointSpec["clock"];
  readonly broker?: string;
  readonly login?: BrokerLogin;
  readonly nodePassword?: string;
}

/** The step as its progress line and the report name it. */
export function stepLabel(sc: Scenario, st: Step): string {
  switch (st.kind) {
    case "loss":
      return `${sc.name}: ${st.lossPct}% loss`;
    case "cpu":
      return `${sc.name}: CPU table (${sc.cpu?.minutes} modeled min per case)`;
    case "setting":
      return `${sc.name}: ${sc.settings?.variants[st.v]?.name} at ${st.lossPct}% loss`;
    case "fault":
      return `${sc.name}: fault case ${sc.faults?.cases[st.c]?.name}`;
    default:
      assertNever(st);
  }
}

/** Runs one step and keeps its result in `out`; a fleet step's point (a fault case's too) is returned. */
export async function runStep(
  sc: Scenario,
  st: Step,
  out: StepResults,
  scheduler: Scheduler,
  o: StepOptions,
): Promise<{ point?: PointResult; faultCase?: FaultCaseResult }> {
  switch (st.kind) {
    case "loss": {
      const point = await runPoint({
        fleet: sc.fleet,
        lossPct: st.lossPct,
        tag: `loss-${st.lossPct}`,
        scheduler,
        ...w(o),
      });
      out.loss.push(point);
      return { point };
    }
    case "cpu": {
      const cpu = sc.cpu as NonNullable<Scenario["cpu"]>;
      out.cpu = runCpuTable(loadProfile(sc.fleet.profile), cpu.lossPct, cpu, sc.fleet.seed);
      return {};
    }
    case "setting": {
      const v = sc.settings?.variants[st.v] as NonNullable<Scenario["settings"]>["variants"][number];
      const point = await runPoint({
        fleet: sc.fleet,
        lossPct: st.lossPct,
        overrides: v.overrides,
        tag: `setting-${st.v}-${st.lossPct}`,
        scheduler,
        ...w(o),
      });
      out.settings.push({
        ...point,
        variant: v.name,
        how: v.how,
        overrides: v.overrides,
        meetsGoal: point.sync.p99 < LIMITS.syncMs && point.lost === 0 && point.echoLate === 0,
      });
      return { point };
    }
    case "fault": {
      const faults = sc.faults as NonNullable<Scenario["faults"]>;
      const faultCase = await runFaultCase({
        fleet: sc.fleet,
        lossPct: faults.lossPct,
        faultCase: faults.cases[st.c] as FaultCase,
        tag: `fault-${st.c}`,
        scheduler,
        ...w(o),
      });
      out.faults.push(faultCase);
      return { point: faultCase, faultCase };
    }
    default:
      assertNever(st);
  }
}

/** What every fleet point takes from the sweep's options. */
function w(o: StepOptions): Pick<PointSpec, "workers" | "clock" | "broker"> {
  return {
    ...(o.workers !== undefined ? { workers: o.workers } : {}),
    ...(o.clock !== undefined ? { clock: o.clock } : {}),
    ...(o.broker !== undefined ? { broker: brokerOf(o.broker, o) } : {}),
  };
}

/** A broker URL as the fleet run takes it: the address, the login given or written in it, the nodes' password. */
function brokerOf(raw: string, o: StepOptions): NonNullable<PointSpec["broker"]> {
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
