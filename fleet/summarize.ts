/**
 * Assembles a run's report from what the run collected: the tracker's counts and latencies, the
 * nodes' final states (divergence), registration times, CPU, link counters, the threads' lag and the
 * versions of what ran.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { Stall } from "../node/stall-watch.js";
import { VERSION } from "../node/version.js";
import { formatStamp, type NodeId } from "../protocol/index.js";
import type { NodeFinal, ShardResult } from "../sim/messages.js";
import {
  type AnalysisInput,
  analyzeFaults,
  type FaultOutcome,
  type FaultSpan,
  type NodeTimeline,
} from "../sim/recovery.js";
import { followersReach, type Pairing } from "../sim/topology.js";
import { displayUrl } from "../twins/index.js";
import type { BrokerKind } from "./broker-host.js";
import type { OutageSpan } from "./broker-outages.js";
import type { Collector } from "./collector.js";
import { cpuDistribution, cpuFigures } from "./cpu-figures.js";
import { divergedNodes } from "./divergence.js";
import type { FaultRecord } from "./faults/runner.js";
import type { JoinedTwinsReport, OwnTwinsReport } from "./joined-watch.js";
import type { KernelDrops } from "./kernel-loss-rules.js";
import { keptUp, type RunLag } from "./lag.js";
import type { LossReport } from "./loss-log.js";
import type { ResolvedFleetOptions } from "./options.js";
import type { OutsideNodesReport } from "./outside-nodes.js";
import type { PairingChangesReport } from "./pairing-changes.js";
import type { TwinsView } from "./registrations.js";
import {
  type BrokerOutageReport,
  checkRequirements,
  type FaultReport,
  type Report,
  round,
  syncFields,
} from "./report.js";
import { RUN_REPORT_FORMAT } from "./report-format.js";
import type { SessionClashReport } from "./session-clashes.js";
import { stallReports } from "./stall-report.js";
import { linkTotals, type NotRegistered, notRegistered, registrationTimes } from "./tally.js";
import type { ThreadDeath } from "./thread-death.js";

export interface ReportInput {
  readonly opts: ResolvedFleetOptions;
  readonly profile: string;
  readonly ids: readonly NodeId[];
  /** The run's collector, following the pairing at the nodes (Collector.following). */
  readonly collector: Collector;
  readonly registeredAt: ReadonlyMap<string, number>;
  readonly results: readonly ShardResult[];
  /** Event-loop lag of the run's threads (fleet/lag.ts). */
  readonly lag: RunLag;
  readonly keptUpLagMs: number;
  readonly rssMB: number | undefined;
  readonly brokerRssMaxMB: number | undefined;
  readonly wallS: number;
  readonly settleS: number;
  readonly brokerKind: BrokerKind;
  readonly twins: "own" | "joined" | "none";
  readonly faults: readonly FaultRecord[];
  /** The broker's outages as the run's twins service saw them. */
  readonly outages: readonly OutageSpan[];
  /** The run's own stalls (node/stall-watch.ts), and those the broker's loss was told in (not outages). */
  readonly stalls?: { readonly all: readonly Stall[]; readonly brokerLost: readonly Stall[] };
  /** Nodes whose sessions another client with the same id took over, if any. */
  readonly clashes?: SessionClashReport | undefined;
  readonly cutAtConnack?: SessionClashReport | undefined;
  readonly joinedTwins?: JoinedTwinsReport | undefined;
  /** The other services seen beside the run's own twins service. */
  readonly ownTwins?: OwnTwinsReport | undefined;
  readonly twinsView: TwinsView;
  /** The nodes whose register the control side heard but no report (RegistrationSource.unreported). */
  readonly unreported?: ReadonlySet<NodeId>;
  /** When the presses started and the checks ended, on the run's clock (ms). */
  readonly pressStartMs: number;
  readonly endMs: number;
  readonly loss: LossReport;
  /** How long the presses ran: --duration, less when they were stopped early (q, Ctrl-C, SIGTERM). */
  readonly pressedS: number;
  readonly cutShort: boolean;
  readonly cutBefore?: Report["cutBefore"];
  /** The thread of the run that died, ending it (fleet/thread-death.ts). */
  readonly threadDied?: ThreadDeath | undefined;
  /** Real-loss mode: the packets nftables saw and dropped on the nodes' address. */
  readonly kernelDrops?: KernelDrops | undefined;
}

export function buildReport(i: ReportInput): Report {
  const { opts, collector } = i;
  const { worker, main, broker } = i.lag;
  const all = [worker, main, ...(broker ? [broker] : [])];
  const worst = { p99Ms: Math.max(...all.map((l) => l.p99Ms)), maxMs: Math.max(...all.map((l) => l.maxMs)) };
  collector.finish();
  const checker = collector.checker;
  // In the order they started (the runner records them as they end).
  const faultRecords = [...i.faults].sort((a, b) => a.startMs - b.startMs);
  const finals = new Map<NodeId, NodeFinal>();
  const cpu = cpuDistribution();
  for (const r of i.results) {
    for (const n of r.nodes) {
      finals.set(n.id, n);
      cpu.record(n.cpuPct);
    }
  }
  const link = linkTotals(i.results);
  // Judged against the pairing at the nodes at the end: the topology, unless the nodes were re-paired.
  const pairing = collector.pairing ?? new Map();
  const judged = i.threadDied?.nodes !== undefined ? judgeable(finals, i.ids, pairing) : finals;
  const diverged = divergedNodes(judged, pairing, collector.originated, collector.outsideHolding);
  const registration = registrationTimes(i.ids, i.registeredAt, collector.bootAt);
  const reg = registration.histogram;
  const allMs = [...registration.ms.values()];
  const c = checker.counts();
  const input: Omit<AnalysisInput, "faults"> = {
    fleet: i.ids,
    reach: followersReach(pairing),
    timeline: collector.timeline,
    pairs: checker.pairs(),
    slow: checker.slow,
    pressTimes: checker.pressTimes,
    early: checker.early(),
    endMs: i.endMs,
  };
  const analysis = analyzeFaults({ ...input, faults: faultRecords });
  const faults: FaultReport[] = faultRecords.map((f, k) => {
    return {
      kind: f.kind,
      atMs: round(f.startMs - i.pressStartMs, 1),
      durationMs: round(f.endMs - f.startMs, 1),
      ...outcomeFields(analysis.outcomes[k]),
      ...(f.pct !== undefined ? { pct: f.pct } : {}),
      ...(f.kind === "frozen-client"
        ? {
            cutAfterMs: f.cutAtMs === undefined ? null : round(f.cutAtMs - f.startMs, 1),
            frozenAfterMs: f.frozenAtMs === undefined ? null : round(f.frozenAtMs - f.startMs, 1),
          }
        : {}),
      ...(f.error !== undefined ? { error: f.error } : {}),
    };
  });
  const base: Omit<Report, "requirements"> = {
    format: RUN_REPORT_FORMAT,
    scenario: {
      ...fleetShape(opts, i.profile),
      broker:
        opts.broker !== undefined
          ? displayUrl(opts.broker)
          : i.brokerKind === "process" || i.brokerKind === "memory"
            ? i.brokerKind
            : "embedded",
      brokerKind: i.brokerKind,
      brokerDurable: opts.brokerData !== undefined,
      ...(opts.faultsSpec !== undefined ? { faults: opts.faultsSpec } : {}),
      twins: i.twins,
      clock: opts.clock,
      lossMode: opts.lossMode,
    },
    loss: {
      ...i.loss,
      meanDuringPressesPct: round(i.loss.meanDuringPressesPct, 2),
      ...(i.kernelDrops ? { kernel: i.kernelDrops } : {}),
    },
    cutShort: i.cutShort,
    ...(i.cutBefore !== undefined ? { cutBefore: i.cutBefore } : {}),
    ...(i.threadDied !== undefined ? { threadDied: i.threadDied } : {}),
    // A real clock's timer may wake a little early: a stop is one well before the end.
    ...(i.pressedS < opts.durationS - 0.05 ? { stoppedEarlyS: round(Math.max(0, i.pressedS), 1) } : {}),
    ...(i.pressedS < 0 ? { stoppedBeforePresses: true as const } : {}),
    presses: c.presses,
    pressesIgnored: collector.pressesIgnored,
    deliveries: c.deliveries,
    superseded: c.superseded,
    sync: syncFields(checker.latency.summary()),
    ...(i.faults.length > 0
      ? { syncOutsideFaults: { count: analysis.outside.count, ...syncFields(analysis.outside) } }
      : {}),
    lost: c.lost,
    lostOutsideFaults: i.faults.length > 0 ? analysis.lostOutside : c.lost,
    late: c.late,
    lostForGood: c.lostForGood,
    lostWithPower: c.lostWithPower,
    ...lostAwayField(checker.lostAtAway()),
    regressions: collector.regressions.count,
    regressionList: collector.regressions.list.slice(0, 50).map((r) => ({
      node: r.node,
      atMs: round(r.at - i.pressStartMs, 1),
      held: formatStamp(r.held),
      now: formatStamp(r.now),
    })),
    faults,
    // An outage is measured beside the faults that held nodes longer (a partition), not beside the
    // broker restart it is.
    ...(i.outages.length > 0
      ? {
          brokerOutages: brokerOutages(
            i.outages,
            { ...input, alsoHolding: faultRecords.filter((f) => f.kind !== "broker-restart") },
            i.pressStartMs,
          ),
        }
      : {}),
    ...(i.stalls !== undefined && i.stalls.all.length > 0
      ? {
          stalls: stallReports(i.stalls.all, i.stalls.brokerLost, collector.ignoredAt, input, i.pressStartMs),
        }
      : {}),
    ...(i.clashes !== undefined ? { sessionClashes: i.clashes } : {}),
    ...(i.cutAtConnack !== undefined ? { sessionsCutAtConnack: i.cutAtConnack } : {}),
    ...(i.joinedTwins !== undefined ? { joinedTwins: i.joinedTwins } : {}),
    ...(i.ownTwins !== undefined ? { ownTwins: i.ownTwins } : {}),
    ...pairingChangesField(collector.live?.report(i.pressStartMs)),
    ...outsideField(collector.outside?.report()),
    twinsView: i.twinsView,
    diverged: diverged.length,
    divergedNodes: diverged.slice(0, 50),
    registration: {
      p50Ms: round(reg.percentile(50), 1),
      maxMs: round(reg.summary().max, 1),
      registered: allMs.length,
      allMs,
      // Real time only: a virtual run's report stays the same over any number of threads.
      ...(opts.clock === "real"
        ? nodesNotRegistered(i.ids, registration.ms, collector.lastConnectFailure, i.unreported)
        : {}),
    },
    cpu: cpuFigures(cpu),
    link,
    sim: {
      lagP99Ms: round(worst.p99Ms, 1),
      lagMaxMs: round(worst.maxMs, 1),
      workerLagP99Ms: round(worker.p99Ms, 1),
      mainLagP99Ms: round(main.p99Ms, 1),
      brokerLagP99Ms: broker ? round(broker.p99Ms, 1) : null,
      threads: Object.fromEntries(
        Object.entries(i.lag.threads).map(([k, l]) => [
          k,
          { p99Ms: round(l.p99Ms, 1), maxMs: round(l.maxMs, 1) },
        ]),
      ),
      keptUp: keptUp(worst, i.keptUpLagMs),
      rssMB: i.rssMB === undefined ? null : round(i.rssMB, 1),
      brokerRssMaxMB: i.brokerRssMaxMB === undefined ? null : round(i.brokerRssMaxMB, 1),
      settleS: round(i.settleS, 1),
      workers: opts.clock === "virtual" ? 0 : opts.workers,
      wallS: round(i.wallS, 1),
    },
    versions: versions(),
  };
  return { ...base, requirements: checkRequirements(base) };
}

/** What a fault or an outage did, rounded for the report (sim/recovery.ts defines each figure). */
function outcomeFields(o: FaultOutcome | undefined): Omit<FaultOutcome, "windowEndMs"> {
  const ms = (v: number | null | undefined) => (v == null ? null : round(v, 1));
  return {
    nodes: o?.nodes ?? 0,
    recoveryMs: ms(o?.recoveryMs),
    disconnected: o?.disconnected ?? 0,
    reregisteredMaxMs: ms(o?.reregisteredMaxMs),
    offlineDetectedMaxMs: ms(o?.offlineDetectedMaxMs),
    pressesDuring: o?.pressesDuring ?? 0,
    lateBeyond5s: o?.lateBeyond5s ?? 0,
    lostForGood: o?.lostForGood ?? 0,
    ...(o?.held !== undefined ? { held: o.held, heldBy: o.heldBy ?? [] } : {}),
  };
}

/**
 * How long before the twins service last heard from a lost broker a node may have lost its session:
 * the worker threads' clocks and the service's notice differ by a few milliseconds.
 */
const OUTAGE_LEAD_MS = 1000;

/**
 * The broker's outages, measured as faults of the whole fleet are (what they did to the nodes and
 * the presses) but not judged apart: the requirements count what was lost in them. Each starts when
 * the twins service (or a shard's watch client) last heard from the broker (a broker gone silent is
 * noticed only at the keepalive), or at the first node's lost session within OUTAGE_LEAD_MS before.
 * A shard measures its own nodes with it, and the merge the whole fleet's (fleet/shard-merge.ts).
 */
export function brokerOutages(
  spans: readonly OutageSpan[],
  input: Omit<AnalysisInput, "faults">,
  pressStartMs: number,
): BrokerOutageReport[] {
  const faults = outageFaults(spans, input.timeline);
  const { outcomes } = analyzeFaults({ ...input, faults });
  return spans.map((s, k) => {
    const startMs = faults[k]?.startMs ?? s.startMs;
    return {
      atMs: round(startMs - pressStartMs, 1),
      durationMs: round(s.endMs - startMs, 1),
      back: s.back,
      ...(s.retainedLost !== undefined ? { retainedLost: s.retainedLost } : {}),
      ...(s.refused !== undefined ? { refused: s.refused } : {}),
      ...outcomeFields(outcomes[k]),
    };
  });
}

/** The broker's outages as faults of the whole fleet, each from its start as brokerOutages says. */
export function outageFaults(spans: readonly OutageSpan[], timeline: NodeTimeline): FaultSpan[] {
  return spans.map((s) => {
    let startMs = s.startMs;
    for (const drops of timeline.disconnects.values()) {
      for (const t of drops) if (t < startMs && t >= s.startMs - OUTAGE_LEAD_MS) startMs = t;
    }
    return { kind: "broker-lost", startMs, endMs: s.endMs, nodes: undefined };
  });
}

/** Versions of what ran. Some packages do not export their package.json: walk up from the entry. */
export function versions(): Report["versions"] {
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

/** What fleet a run is, as its report and a shard's report state it. */
export function fleetShape(opts: ResolvedFleetOptions, profile: string) {
  return {
    nodes: opts.nodes,
    profile,
    topology: typeof opts.topology === "string" ? opts.topology : opts.topology.file,
    groupSize: opts.groupSize,
    ratePerNodePerMin: opts.ratePerNodePerMin,
    lossPct: opts.lossPct,
    seed: opts.seed,
    durationS: opts.durationS,
  };
}

function pairingChangesField(p: PairingChangesReport | undefined): { pairingChanges?: PairingChangesReport } {
  return p === undefined ? {} : { pairingChanges: p };
}

function lostAwayField(away: ReadonlyMap<NodeId, number>): Pick<Report, "lostAtNodesAway"> {
  if (away.size === 0) return {};
  let pairs = 0;
  for (const n of away.values()) pairs += n;
  const nodes = [...away]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10)
    .map(([id]) => id);
  return { lostAtNodesAway: { pairs, nodes } };
}

function outsideField(o: OutsideNodesReport | undefined): { outsideNodes?: OutsideNodesReport } {
  return o === undefined ? {} : { outsideNodes: o };
}

function nodesNotRegistered(...args: Parameters<typeof notRegistered>): { notRegistered?: NotRegistered } {
  const nr = notRegistered(...args);
  return nr ? { notRegistered: nr } : {};
}

/**
 * The nodes whose divergence can be judged when a worker thread died and took its nodes' final
 * states with it: those following one of its nodes are left out too (what they hold from it cannot
 * be compared with what it held).
 */
function judgeable(
  finals: ReadonlyMap<NodeId, NodeFinal>,
  ids: readonly NodeId[],
  pairing: Pairing,
): ReadonlyMap<NodeId, NodeFinal> {
  const gone = new Set(ids.filter((id) => !finals.has(id)));
  if (gone.size === 0) return finals;
  return new Map([...finals].filter(([id]) => !(pairing.get(id) ?? []).some((s) => gone.has(s))));
}
