/**
 * One sweep point: a short fleet run (the embedded broker or someone else's, twins, simulated nodes) at one loss level and
 * one set of device settings, reduced to what the sweep's figures need — the distributions of the
 * paper's echo latency and of fleet-wide sync latency, lost deliveries, registration, CPU, link
 * counters, and whether the simulator kept up (if not, the point's timings were stretched by the host).
 */
import type { FaultEntry } from "../fleet/faults/schedule.js";
import type { Clock, ProfileOverrides } from "../fleet/options.js";
import type { Report } from "../fleet/report.js";
import { FleetRun } from "../fleet/run.js";
import type { NotRegistered } from "../fleet/tally.js";
import { threadDeathLine } from "../fleet/thread-death.js";
import type { Scheduler } from "../node/scheduler.js";
import type { Distribution } from "../sim/histogram.js";
import type { BrokerLogin } from "../twins/index.js";
import { type Disturbed, disturbedOf } from "./disturbed.js";
import type { Scenario } from "./scenario.js";

/** Percentiles of a latency distribution, ms; the box plots use p5–p95 whiskers around p25–p75. */
export interface Percentiles {
  readonly count: number;
  readonly p5: number;
  readonly p25: number;
  readonly p50: number;
  readonly p75: number;
  readonly p90: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

export interface PointResult {
  readonly lossPct: number;
  /** The paper's latency: a node's own report from its publish to reading the echo. */
  readonly echo: Percentiles;
  /** Echoes slower than 5 s: the paper's "lost message" by its own timing. */
  readonly echoLate: number;
  /** Fleet-wide sync latency, press to each follower's applied state (docs/metrics.md). */
  readonly sync: Percentiles;
  readonly presses: number;
  /** (press, follower) pairs: delivered, and lost (not reflected within 5 s). */
  readonly deliveries: number;
  readonly lost: number;
  readonly diverged: number;
  readonly registration: {
    readonly registered: number;
    readonly nodes: number;
    readonly p50Ms: number;
    readonly maxMs: number;
    /** The nodes that never registered and how they last failed to connect; absent when all did. */
    readonly notRegistered?: NotRegistered;
  };
  /** Modeled CPU utilization (work + blocked), mean and max over the nodes, percent. */
  readonly cpuMeanPct: number;
  readonly cpuMaxPct: number;
  readonly link: {
    readonly segments: number;
    readonly retransmissions: number;
    readonly timeouts: number;
    readonly reconnects: number;
  };
  readonly sim: { readonly keptUp: boolean; readonly lagP99Ms: number; readonly wallS: number };
  /**
   * The broker's outages during the point (someone else's broker that died or was cut off; a fault
   * case's restarts too): how many and how long in all. Absent when there was none.
   */
  readonly brokerLost?: { readonly times: number; readonly s: number };
  /**
   * What else went on that the figures mix in (sweep/disturbed.ts): another client with the nodes'
   * ids, another controller, the sweep's process stopped. Absent when nothing did.
   */
  readonly disturbed?: Disturbed;
}

export interface PointSpec {
  readonly fleet: Scenario["fleet"];
  readonly lossPct: number;
  readonly overrides?: ProfileOverrides;
  readonly workers?: number;
  /** Distinguishes points in the seed, so no two points replay the same presses and losses. */
  readonly tag: string;
  /** Faults to inject, times from the start of the presses, and how to name them in the run's report. */
  readonly faults?: { readonly entries: readonly FaultEntry[]; readonly spec: string };
  /** The broker in its own process (a restart is then a real SIGKILL), with its store in this directory. */
  readonly brokerProcess?: boolean;
  readonly brokerData?: string;
  /** The run's clock (FleetRun.start's `scheduler`); default a RealScheduler of its own. */
  readonly scheduler?: Scheduler;
  /** Real time (default) or virtual time: the point as a virtual fleet run (fleet/virtual.ts). */
  readonly clock?: Clock;
  /**
   * Someone else's broker (the fleet run's `broker`, `login` for its twins service and tools,
   * `nodePassword` for its nodes); the run starts its own otherwise.
   */
  readonly broker?: { readonly url: string; readonly login: BrokerLogin; readonly nodePassword?: string };
}

/** The last seconds of the press phase have no presses, so every press is judged under the loss. */
const PRESS_TAIL_S = 5;
/**
 * Up to this many nodes a wall-clock point's fleet runs in one worker thread unless told otherwise:
 * a thread keeps up with far more, and each further thread on a small machine makes every thread
 * wait longer for a core, which shows in the wall-clock latencies (docs/sweep.md, "Why they differ").
 */
const ONE_WORKER_UP_TO = 1000;

export async function runPoint(spec: PointSpec): Promise<PointResult> {
  return (await runPointWithReport(spec)).point;
}

/** A point and the fleet run's whole report (the fault cases need more of it than a point keeps). */
export async function runPointWithReport(
  spec: PointSpec,
): Promise<{ readonly point: PointResult; readonly report: Report }> {
  const f = spec.fleet;
  const run = await FleetRun.start(
    {
      nodes: f.nodes,
      profile: f.profile,
      topology: f.topology,
      groupSize: f.groupSize,
      ratePerNodePerMin: f.ratePerNodePerMin,
      lossPct: spec.lossPct,
      seed: `${f.seed}/${spec.tag}`,
      durationS: f.seconds + PRESS_TAIL_S,
      settleS: f.settleS,
      progressEveryS: 3600,
      workers: spec.workers ?? (spec.clock !== "virtual" && f.nodes <= ONE_WORKER_UP_TO ? 1 : undefined),
      pressesEndEarlyS: PRESS_TAIL_S,
      ...(spec.overrides ? { profileOverrides: spec.overrides } : {}),
      ...(spec.faults ? { faults: spec.faults.entries, faultsSpec: spec.faults.spec } : {}),
      ...(spec.brokerProcess ? { brokerProcess: true } : {}),
      ...(spec.brokerData !== undefined ? { brokerData: spec.brokerData } : {}),
      ...(spec.clock !== undefined ? { clock: spec.clock } : {}),
      ...(spec.broker !== undefined ? { broker: spec.broker.url, login: spec.broker.login } : {}),
      ...(spec.broker?.nodePassword !== undefined ? { nodePassword: spec.broker.nodePassword } : {}),
    },
    undefined,
    spec.scheduler,
  );
  const r = await run.done;
  // A thread that died ended the run early: its figures are not the point's, which failed.
  if (r.threadDied !== undefined) throw new Error(threadDeathLine(r.threadDied));
  const disturbed = disturbedOf(r);
  const point: PointResult = {
    lossPct: spec.lossPct,
    echo: percentiles(run.collector.echo),
    echoLate: run.collector.echoLate,
    sync: percentiles(run.collector.checker.latency),
    presses: r.presses,
    deliveries: r.deliveries,
    lost: r.lost,
    diverged: r.diverged,
    registration: {
      registered: r.registration.registered,
      nodes: r.scenario.nodes,
      p50Ms: r.registration.p50Ms,
      maxMs: r.registration.maxMs,
      ...(r.registration.notRegistered ? { notRegistered: r.registration.notRegistered } : {}),
    },
    cpuMeanPct: r.cpu.meanPct,
    cpuMaxPct: r.cpu.maxPct,
    link: {
      segments: r.link.segments,
      retransmissions: r.link.retransmissions,
      timeouts: r.link.timeouts,
      reconnects: r.link.reconnects,
    },
    sim: { keptUp: r.sim.keptUp, lagP99Ms: r.sim.lagP99Ms, wallS: r.sim.wallS },
    ...brokerLost(r),
    ...(disturbed ? { disturbed } : {}),
  };
  return { point, report: r };
}

/** The outages no fault asked for (a fault case's broker restarts are its subject, told as such). */
function brokerLost(r: Report): Pick<PointResult, "brokerLost"> {
  const o = r.brokerOutages ?? [];
  if (o.length === 0 || r.faults.some((f) => f.kind === "broker-restart")) return {};
  const ms = o.reduce((a, x) => a + x.durationMs, 0);
  return { brokerLost: { times: o.length, s: Math.round(ms / 100) / 10 } };
}

/**
 * Wall seconds a fleet run of `nodes` over `modeledS` takes on virtual time, for the ETA before any
 * point has run: measured on a 2-core machine, the full `paper,settings` sweep's 16 fleet points
 * (28,000 node-seconds) took about 2 s, its quick one's 5 (1,500) about 0.5 s.
 */
export function virtualSeconds(nodes: number, modeledS: number): number {
  return 0.08 + nodes * modeledS * 7e-5;
}

/**
 * Wall seconds the first virtual fleet point of a process takes beyond its estimate, once: loading
 * the fleet's modules and V8 compiling the model's hot code. The first quick `paper` point took 0.93
 * CPU s, the same point run again in the process 0.18 (2-core machine); a plan or an ETA that leaves
 * it out takes a first point for the pace of them all.
 */
export const VIRTUAL_WARM_UP_S = 1;

/** Modeled seconds a point takes, for the ETA before any point has run. */
export function pointSeconds(f: Scenario["fleet"]): number {
  return Math.min(20, f.nodes * 0.005) + 2 + f.seconds + PRESS_TAIL_S + f.settleS + 2;
}

export function percentiles(d: Distribution): Percentiles {
  const r = (v: number) => Math.round(v * 1000) / 1000;
  const s = d.summary();
  return {
    count: s.count,
    p5: r(d.percentile(5)),
    p25: r(d.percentile(25)),
    p50: r(s.p50),
    p75: r(d.percentile(75)),
    p90: r(s.p90),
    p95: r(d.percentile(95)),
    p99: r(s.p99),
    max: r(s.max),
    mean: r(s.mean),
  };
}
