/**
 * Assembles a run's report from what the run collected: the tracker's counts and latencies, the
 * nodes' final states (divergence), registration times, CPU, link counters, the threads' lag and the
 * versions of what ran.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { VERSION } from "../cli/version.js";
import { Distribution } from "../sim/histogram.js";
import type { NodeFinal, ShardResult } from "../sim/messages.js";
import type { Pairing } from "../sim/topology.js";
import type { Collector } from "./collector.js";
import { divergedNodes } from "./divergence.js";
import type { FleetOptions } from "./options.js";
import { checkRequirements, type Report, round, syncFields } from "./report.js";

export interface ReportInput {
  readonly opts: FleetOptions;
  readonly profile: string;
  readonly ids: readonly string[];
  readonly pairing: Pairing;
  readonly collector: Collector;
  readonly registeredAt: ReadonlyMap<string, number>;
  readonly results: readonly ShardResult[];
  /** Event-loop lag of the worst worker thread and of the main thread. */
  readonly lag: { readonly worker: Lag; readonly main: Lag };
  readonly keptUpLagMs: number;
  readonly rssMB: number;
  readonly wallS: number;
}

interface Lag {
  readonly p99Ms: number;
  readonly maxMs: number;
}

export function buildReport(i: ReportInput): Report {
  const { opts, collector } = i;
  const { worker, main } = i.lag;
  const worst = { p99Ms: Math.max(worker.p99Ms, main.p99Ms), maxMs: Math.max(worker.maxMs, main.maxMs) };
  const tracker = collector.tracker;
  tracker.finish();
  const finals = new Map<string, NodeFinal>();
  const cpu = new Distribution(100, 100);
  const link = { segments: 0, retransmissions: 0, timeouts: 0, reconnects: 0, oversizedDropped: 0 };
  for (const r of i.results) {
    for (const n of r.nodes) {
      finals.set(n.id, n);
      cpu.record(n.cpuPct);
    }
    for (const k of Object.keys(link) as (keyof typeof link)[]) link[k] += r.link[k];
  }
  const diverged = divergedNodes(finals, i.pairing, collector.originated);
  const reg = new Distribution(1000, 3_600_000);
  const allMs: number[] = [];
  for (const id of i.ids) {
    const at = i.registeredAt.get(id);
    const boot = collector.bootAt.get(id);
    if (at === undefined || boot === undefined) continue;
    const ms = Math.max(0, at - boot);
    reg.record(ms);
    allMs.push(round(ms, 1));
  }
  const c = tracker.counts();
  const cpuSummary = cpu.summary();
  const base: Omit<Report, "requirements"> = {
    scenario: {
      nodes: opts.nodes,
      profile: i.profile,
      topology: typeof opts.topology === "string" ? opts.topology : opts.topology.file,
      groupSize: opts.groupSize,
      ratePerNodePerMin: opts.ratePerNodePerMin,
      lossPct: opts.lossPct,
      seed: opts.seed,
      durationS: opts.durationS,
      broker: opts.broker ?? "embedded",
    },
    presses: c.presses,
    deliveries: c.deliveries,
    superseded: c.superseded,
    sync: syncFields(tracker.latency.summary()),
    lost: c.lost,
    diverged: diverged.length,
    divergedNodes: diverged.slice(0, 50),
    registration: {
      p50Ms: round(reg.percentile(50), 1),
      maxMs: round(reg.summary().max, 1),
      registered: allMs.length,
      allMs,
    },
    cpu: {
      meanPct: round(cpuSummary.mean, 2),
      p99Pct: round(cpuSummary.p99, 2),
      maxPct: round(cpuSummary.max, 2),
    },
    link,
    sim: {
      lagP99Ms: round(worst.p99Ms, 1),
      lagMaxMs: round(worst.maxMs, 1),
      workerLagP99Ms: round(worker.p99Ms, 1),
      mainLagP99Ms: round(main.p99Ms, 1),
      keptUp: worst.p99Ms < i.keptUpLagMs,
      rssMB: round(i.rssMB, 1),
      workers: opts.workers,
      wallS: round(i.wallS, 1),
    },
    versions: versions(),
  };
  return { ...base, requirements: checkRequirements(base) };
}

/** Versions of what ran. Some packages do not export their package.json: walk up from the entry. */
function versions(): Report["versions"] {
  const require = createRequire(import.meta.url);
  const v = (pkg: string) => {
    try {
      let dir = dirname(require.resolve(pkg));
      while (
        !existsSync(join(dir, "package.json")) ||
        JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).name !== pkg
      ) {
        const up = dirname(dir);
        if (up === dir) return "unknown";
        dir = up;
      }
      return String(JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).version);
    } catch {
      return "unknown";
    }
  };
  return { twinfleet: VERSION, node: process.version, aedes: v("aedes"), mqtt: v("mqtt") };
}
