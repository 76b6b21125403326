/**
 * The report of a virtual-time fleet run split over worker threads, merged from its parts
 * (fleet/virtual-part.ts): what summarize.ts's buildReport makes of one collector, made of the parts'
 * counts (summed), histograms (added), registration times and final states (in the fleet's order) and
 * the twins' views (summed). A part is whole groups, so every pair of the checker lies in one part and
 * the merge is the report of the same run in one thread, to the bit. A split run has no faults
 * (fleet/virtual-split.ts), so there are no fault windows to analyse.
 */
import type { NodeId, Stamp } from "../protocol/index.js";
import { Distribution } from "../sim/histogram.js";
import type { NodeFinal } from "../sim/messages.js";
import type { Pairing } from "../sim/topology.js";
import { cpuDistribution, cpuFigures } from "./cpu-figures.js";
import { divergedNodes } from "./divergence.js";
import { keptUp, lagOf } from "./lag.js";
import { LossLog } from "./loss-log.js";
import type { ResolvedFleetOptions } from "./options.js";
import { checkRequirements, type Report, round, syncFields } from "./report.js";
import { RUN_REPORT_FORMAT } from "./report-format.js";
import { parseStamp } from "./shard-replay.js";
import { fleetShape, versions } from "./summarize.js";
import { linkTotals } from "./tally.js";
import type { PartResult } from "./virtual-part.js";

export function mergeParts(
  opts: ResolvedFleetOptions,
  profile: string,
  pairing: Pairing,
  parts: readonly PartResult[],
): Report {
  const first = parts[0];
  if (first === undefined) throw new Error("mergeParts: no part to merge");
  const sum = (f: (p: PartResult) => number) => parts.reduce((a, p) => a + f(p), 0);
  const latency = new Distribution();
  const reg = new Distribution(1000, 3_600_000);
  const cpu = cpuDistribution();
  const finals = new Map<NodeId, NodeFinal>();
  const originated = new Map<NodeId, Stamp>();
  for (const p of parts) {
    latency.addEncoded(p.latency);
    reg.addEncoded(p.registrationHistogram);
    for (const n of p.result.nodes) {
      finals.set(n.id, n);
      cpu.record(n.cpuPct);
    }
    for (const [id, s] of p.originated) originated.set(id, parseStamp("part", s));
  }
  const diverged = divergedNodes(finals, pairing, originated);
  const allMs = parts.flatMap((p) => p.registrationMs);
  const pressStartMs = first.pressStartMs;
  const lossLog = new LossLog(opts.lossPct);
  if (opts.lossPct !== 0) lossLog.record(first.settleFrom - pressStartMs, 0, "settle");
  const loss = lossLog.report(first.settleFrom - pressStartMs);
  const lost = sum((p) => p.counts.lost);
  const pressesIgnored = sum((p) => p.counts.pressesIgnored);
  const regressions = parts
    .flatMap((p) => p.regressionList)
    .sort((a, b) => a.at - b.at)
    .slice(0, 50);
  const lag = lagOf(undefined);
  const worst = {
    p99Ms: Math.max(lag.worker.p99Ms, lag.main.p99Ms),
    maxMs: Math.max(lag.worker.maxMs, lag.main.maxMs),
  };
  const base: Omit<Report, "requirements"> = {
    format: RUN_REPORT_FORMAT,
    scenario: {
      ...fleetShape(opts, profile),
      broker: "memory",
      brokerKind: "memory",
      brokerDurable: false,
      twins: opts.twins ? "own" : "none",
      clock: opts.clock,
      lossMode: opts.lossMode,
    },
    loss: { ...loss, meanDuringPressesPct: round(loss.meanDuringPressesPct, 2) },
    cutShort: parts.some((p) => p.cutShort),
    // As a one-thread run's (fleet/summarize.ts): where a cut came, and presses stopped early.
    ...(first.cutBefore !== undefined ? { cutBefore: first.cutBefore } : {}),
    ...(first.pressedS < opts.durationS ? { stoppedEarlyS: round(Math.max(0, first.pressedS), 1) } : {}),
    ...(first.pressedS < 0 ? { stoppedBeforePresses: true as const } : {}),
    presses: sum((p) => p.counts.presses),
    pressesIgnored,
    deliveries: sum((p) => p.counts.deliveries),
    superseded: sum((p) => p.counts.superseded),
    sync: syncFields({ ...latency.summary(), max: Math.max(...parts.map((p) => p.latencyMax)) }),
    lost,
    lostOutsideFaults: lost,
    late: sum((p) => p.counts.late),
    lostForGood: sum((p) => p.counts.lostForGood),
    lostWithPower: sum((p) => p.counts.lostWithPower),
    regressions: sum((p) => p.regressions),
    regressionList: regressions.map((r) => ({
      node: r.node,
      atMs: round(r.at - pressStartMs, 1),
      held: r.held,
      now: r.now,
    })),
    faults: [],
    twinsView: {
      known: sum((p) => p.twinsView.known),
      online: sum((p) => p.twinsView.online),
      desiredAsPaired: sum((p) => p.twinsView.desiredAsPaired),
      pairingConfirmed: sum((p) => p.twinsView.pairingConfirmed),
    },
    diverged: diverged.length,
    divergedNodes: diverged.slice(0, 50),
    registration: {
      p50Ms: round(reg.percentile(50), 1),
      maxMs: round(Math.max(...parts.map((p) => p.registrationMax)), 1),
      registered: allMs.length,
      allMs,
    },
    cpu: cpuFigures(cpu),
    link: linkTotals(parts.map((p) => p.result)),
    sim: {
      lagP99Ms: round(worst.p99Ms, 1),
      lagMaxMs: round(worst.maxMs, 1),
      workerLagP99Ms: round(lag.worker.p99Ms, 1),
      mainLagP99Ms: round(lag.main.p99Ms, 1),
      brokerLagP99Ms: null,
      threads: {},
      keptUp: keptUp(worst),
      rssMB: null,
      brokerRssMaxMB: null,
      settleS: first.cutBefore !== undefined ? 0 : round((first.stoppedAt - first.settleFrom) / 1000, 1),
      workers: 0,
      wallS: round((first.stoppedAt - first.startedAt) / 1000, 1),
    },
    versions: versions(),
  };
  return { ...base, requirements: checkRequirements(base) };
}
