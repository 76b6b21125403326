/**
 * The run report (`--report FILE.json`): the scenario, the paper's metrics and the simulator's own
 * health, plus the check of the paper's requirements that `--assert` turns into an exit code.
 */

import type { DropCounts } from "../node/metrics.js";
import { writeFileWhole } from "../node/whole-file.js";
import type { Summary } from "../sim/histogram.js";
import type { FaultOutcome } from "../sim/recovery.js";
import type { BrokerMovedReport } from "./broker-address.js";
import type { ClaimReport } from "./claim-report.js";
import type { JoinedTwinsReport, OwnTwinsReport } from "./joined-watch.js";
import type { KernelDrops, LossMode } from "./kernel-loss-rules.js";
import type { LossReport } from "./loss-log.js";
import type { OutsideNodesReport } from "./outside-nodes.js";
import type { PairingChangesReport } from "./pairing-changes.js";
import type { TwinsView } from "./registrations.js";
import type { RUN_REPORT_FORMAT } from "./report-format.js";
import type { SessionClashReport } from "./session-clashes.js";
import type { ShardClaimReport } from "./shard-claims.js";
import type { ShardBrokerMovedReport } from "./shard-moved.js";
import type { StallReport } from "./stall-report.js";
import type { NotRegistered } from "./tally.js";
import type { ThreadDeath } from "./thread-death.js";

export { checkRequirements, requirementFailures, syncUnmeasured } from "./requirements.js";

export interface Report {
  /**
   * The report's format (fleet/report-format.ts): what its fields mean, for the builds reading it.
   * Absent in reports of builds before 7 December 2026, which are format 1.
   */
  readonly format: typeof RUN_REPORT_FORMAT;
  readonly scenario: {
    /** The nodes every figure covers: the fleet's, or those of the shards a partial merge holds. */
    readonly nodes: number;
    /** A partial shard merge (`report merge --partial`): the whole fleet's nodes, some in no figure. */
    readonly fleetNodes?: number;
    readonly profile: string;
    readonly topology: string;
    readonly groupSize: number;
    readonly ratePerNodePerMin: number;
    readonly lossPct: number;
    readonly seed: string;
    readonly durationS: number;
    readonly broker: string;
    /** Whose broker: the run's own here or in a child process, someone else's, or (virtual time) in memory. */
    readonly brokerKind: "embedded" | "process" | "external" | "memory";
    /** The broker the run starts keeps its store on disk (--broker-data). */
    readonly brokerDurable: boolean;
    /** `--faults` as given, when there were faults. */
    readonly faults?: string;
    /**
     * The twins service: the run's own, or someone else's the run only watched; `none` in a virtual
     * run without twins, where registration and twinsView are read from the broker's traffic instead.
     */
    readonly twins: "own" | "joined" | "none";
    /** What the run kept time on: wall time with real sockets, or virtual time (in memory). */
    readonly clock: "real" | "virtual";
    /**
     * Who lost the nodes' packets: the link model, or the kernel (the broker in a network namespace,
     * nftables dropping; the nodes' TCP is then the kernel's). Absent in reports from before the option.
     */
    readonly lossMode?: LossMode;
  };
  /**
   * The loss as it was set during the run: scenario.lossPct at the start, then each change; in
   * real-loss mode also the packets nftables saw and dropped each way (`kernel`).
   */
  readonly loss: LossReport & { readonly kernel?: KernelDrops };
  /**
   * The run ended before its settle was over — the user (a second q or Ctrl-C, a signal) or a thread
   * of the run that died (`threadDied`): deliveries still in flight then count as lost, and a node
   * still recovering may count as diverged.
   */
  readonly cutShort: boolean;
  /**
   * A run cut short before its settle began: before its presses did (`presses`: none was made),
   * or during them (`settle`); its `sim.settleS` is 0. Absent when it was cut in its settle.
   */
  readonly cutBefore?: "presses" | "settle";
  /**
   * A thread of the run died (out of memory, an uncaught error) and the run ended there: the figures
   * cover the run until then; a dead worker thread's nodes have no final state (not judged for
   * divergence). Absent when every thread lived to the end.
   */
  readonly threadDied?: ThreadDeath;
  /**
   * The presses were stopped before --duration (q, Ctrl-C, SIGTERM): after this many seconds. The
   * figures cover that much of the run; absent when the presses ran their course.
   */
  readonly stoppedEarlyS?: number;
  /** Stopped before the first press was due (in the boot, or the lead before it): none was made. */
  readonly stoppedBeforePresses?: true;
  readonly presses: number;
  /** Presses the nodes' button interrupts ignored (`sketch.debounceMs`); absent from reports before the count. */
  readonly pressesIgnored?: number;
  readonly deliveries: number;
  readonly superseded: number;
  readonly sync: {
    readonly p50Ms: number;
    readonly p90Ms: number;
    readonly p99Ms: number;
    readonly maxMs: number;
  };
  /** Sync latency of the pairs outside every fault's window: what `--assert` judges when there were faults. */
  readonly syncOutsideFaults?: {
    readonly count: number;
    readonly p50Ms: number;
    readonly p90Ms: number;
    readonly p99Ms: number;
    readonly maxMs: number;
  };
  /** (press, follower) pairs not reflected within 5 s: the paper's "lost" (late ones included). */
  readonly lost: number;
  /** Of those, the ones outside every fault's window. */
  readonly lostOutsideFaults: number;
  /** Reflected, but after 5 s. */
  readonly late: number;
  /** Never reflected by the end of the run: lost for good. */
  readonly lostForGood: number;
  /**
   * Of those, presses held in a node's RAM while it was not synced and lost with its power before
   * it synced again (absent from a merged shards report: the shards' logs do not say why).
   */
  readonly lostWithPower?: number;
  /**
   * Of those, the pairs owed to nodes outside the fleet (boards, stand-ins) that were offline at the
   * run's end — switched off or unplugged mid-run — and the first ten of them, most first; absent
   * when none.
   */
  readonly lostAtNodesAway?: { readonly pairs: number; readonly nodes: readonly string[] };
  /** Times a node's state went back to an older stamp than it held before. */
  readonly regressions: number;
  readonly regressionList: readonly {
    readonly node: string;
    readonly atMs: number;
    readonly held: string;
    readonly now: string;
  }[];
  /** Each fault as it happened and what it did (docs/metrics.md#faults). */
  readonly faults: readonly FaultReport[];
  /**
   * Each time the run's twins service (in a merged report: a shard's client) lost the broker, and
   * what it did; only when it did. An outage the run did not inject (a broker that died) counts
   * against the requirements like any loss.
   */
  readonly brokerOutages?: readonly BrokerOutageReport[];
  /**
   * Each time the run's own process did not run for a while (stopped, its VM paused: fleet/stall-report.ts),
   * and what happened in it; only when it did. A loss of the broker that the stall explains is here, not in `brokerOutages`.
   */
  readonly stalls?: readonly StallReport[];
  /**
   * Nodes whose sessions another client with the same client id kept taking over (a second fleet or
   * a board with the same ids); only when there were: the run's figures then mix in the other's.
   */
  readonly sessionClashes?: SessionClashReport;
  /**
   * Nodes whose sessions the broker closed right after accepting them, before answering anything,
   * again and again (its rules or limits, a fault, something between): no other client is needed
   * for that, and none is claimed. Only when there were; the nodes took no part in the run.
   */
  readonly sessionsCutAtConnack?: SessionClashReport;
  /**
   * The twins service the run joined (`scenario.twins` "joined"), and each time it left the broker
   * mid-run (its presence cleared) and came back; times from the start of the presses.
   */
  readonly joinedTwins?: JoinedTwinsReport;
  /** The run's own twins service and the other services seen beside it mid-run; only when there were. */
  readonly ownTwins?: OwnTwinsReport;
  /**
   * Each time the run's claim on its ids was not held mid-run (its connection lost, or its retained
   * message cleared on the broker) and how that ended; only when it was. Absent in reports before 7
   * December 2026 (fleet/claim-report.ts).
   */
  readonly claim?: ClaimReport;
  /**
   * The nodes' broker name named other addresses mid-run than the nodes connected to (they look it up
   * once, as boards given the address: fleet/broker-address.ts); one-process runs, from 7 December 2026
   * (a merged report has `shardBrokerMoved`).
   */
  readonly brokerMoved?: BrokerMovedReport;
  /** A merged report's: each shard's claim that was lost or not held, by shard (fleet/shard-claims.ts). */
  readonly shardClaims?: readonly ShardClaimReport[];
  /** A merged report's: each shard whose nodes' broker name moved mid-run, by shard (fleet/shard-moved.ts). */
  readonly shardBrokerMoved?: readonly ShardBrokerMovedReport[];
  /**
   * The nodes' pairing changed while the run went on (re-paired through the console, the web page or
   * a twins service): how many times and nodes, when, and the first changes. Each press is judged
   * against the pairing at the nodes when it happened; only when it changed.
   */
  readonly pairingChanges?: PairingChangesReport;
  /**
   * Nodes on the broker that are not the fleet's (real boards, host stand-ins) whose presses, and
   * whose deliveries of the fleet's presses, were judged with the fleet's (fleet/outside-nodes.ts);
   * only when there were.
   */
  readonly outsideNodes?: OutsideNodesReport;
  /** What the twins service knows of the fleet's nodes at the end: complete, online, paired as asked. */
  readonly twinsView: TwinsView;
  readonly diverged: number;
  readonly divergedNodes: readonly string[];
  readonly registration: {
    readonly p50Ms: number;
    readonly maxMs: number;
    readonly registered: number;
    readonly allMs: readonly number[];
    /** Real time, when some node never registered: how many, the first few, how each last failed to connect. */
    readonly notRegistered?: NotRegistered;
  };
  readonly cpu: { readonly meanPct: number; readonly p99Pct: number; readonly maxPct: number };
  readonly link: {
    readonly segments: number;
    readonly retransmissions: number;
    readonly timeouts: number;
    /** Sessions lost while connected (a connection dropped, a power cut), whether or not they came back. */
    readonly disconnects: number;
    /** Of them, the ones the node's keepalive ping ended, and the ones the broker closed (absent from reports written before these counts). */
    readonly keepaliveTimeouts?: number;
    readonly closedByBroker?: number;
    /** Of them, the ones the chip's TCP gave up and the ones a power cut ended (absent from reports written before these counts). */
    readonly tcpTimeouts?: number;
    readonly powerCuts?: number;
    /** Of them, the ones the node closed itself on a packet it could not read (absent from reports written before this count). */
    readonly closedByNode?: number;
    /** Sessions that came up again after a loss (a node's CONNACK after an earlier one). */
    readonly reconnects: number;
    readonly oversizedDropped: number;
    /**
     * Messages the nodes dropped, by reason: the core's drops (a topic not theirs, a bad payload, a
     * stale stamp…) and the sketch's refusals (absent from reports written before this count).
     */
    readonly drops?: DropCounts;
  };
  readonly sim: {
    /** The worst thread's event-loop lag (workers, main and the broker's thread). */
    readonly lagP99Ms: number;
    readonly lagMaxMs: number;
    /** Worker threads only (the nodes), and the main thread only (twins, collector, console). */
    readonly workerLagP99Ms: number;
    readonly mainLagP99Ms: number;
    /** The embedded broker's own thread; null when the broker is not a thread of this process. */
    readonly brokerLagP99Ms: number | null;
    /** Every thread's lag (`main`, `broker`, `worker-N`); empty on virtual time. */
    readonly threads: Readonly<Record<string, { readonly p99Ms: number; readonly maxMs: number }>>;
    readonly keptUp: boolean;
    /**
     * Resident memory at the end of the presses (merged: every shard's together); null on virtual time
     * (it would differ between identical runs), or when a process could not read it (open-files limit).
     */
    readonly rssMB: number | null;
    /** The largest resident memory of the broker seen during the run (its own process, or this one). */
    readonly brokerRssMaxMB: number | null;
    /** How long the settle lasted: at least --settle, longer while faults ended and the fleet recovered. */
    readonly settleS: number;
    readonly workers: number;
    /** How long the run lasted on its clock: wall seconds, or on virtual time virtual seconds. */
    readonly wallS: number;
  };
  readonly requirements: {
    /** On the pairs outside every fault's window. */
    readonly syncP99Under1s: boolean;
    readonly registrationUnder30s: boolean;
    /** Nothing lost for good, and nothing later than 5 s outside the fault windows. */
    readonly nothingLost: boolean;
    readonly noRegressions: boolean;
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

/**
 * One fault of the run: when it hit (from the start of the presses), for how long, and what it did
 * (sim/recovery.ts defines each figure).
 */
export interface FaultReport extends Omit<FaultOutcome, "windowEndMs"> {
  readonly kind: string;
  readonly atMs: number;
  readonly durationMs: number;
  /** The loss a loss fault set. */
  readonly pct?: number;
  /** A frozen client: when the broker cut it off, from the fault's start (null: it never did). */
  readonly cutAfterMs?: number | null;
  /**
   * A frozen client: when it was in place (connected, subscribed, not reading), from the fault's
   * start; later than at once when it waited for the broker (null: it never was).
   */
  readonly frozenAfterMs?: number | null;
  /** The fault could not be carried out. */
  readonly error?: string;
}

/** An outage of the broker as the run's twins service saw it: from its loss until it was back. */
export interface BrokerOutageReport extends Omit<FaultOutcome, "windowEndMs"> {
  /** From the start of the presses (negative: before they started). */
  readonly atMs: number;
  /** Until the connection was back, or the end of the checks if it was not. */
  readonly durationMs: number;
  readonly back: boolean;
  /** Nodes whose report the broker came back without (or with an older one), put back by the run's own twins. */
  readonly retainedLost?: number;
  /** The broker's refusal of the run's login while it was lost (a login revoked, not a crash). */
  readonly refused?: string;
  /** A merged report: the shards whose client saw it (one outage, however many saw it). */
  readonly shards?: readonly number[];
}

/** A frozen client in place this long or more after its fault began had waited for the broker. */
const FROZEN_WAIT_TOLD_MS = 1000;

/** When a frozen client that waited for the broker took hold, from its fault's start; undefined if it did not wait. */
export function frozenAfterWait(f: Pick<FaultReport, "frozenAfterMs">): number | undefined {
  const at = f.frozenAfterMs ?? 0;
  return at >= FROZEN_WAIT_TOLD_MS ? at : undefined;
}

/** "20 nodes held by partition": a row's nodes another fault held; undefined when none. */
export function heldNodes(o: Pick<FaultOutcome, "held" | "heldBy">): string | undefined {
  if (o.held === undefined) return undefined;
  return `${o.held} node${o.held === 1 ? "" : "s"} held by ${(o.heldBy ?? []).join(", ")}`;
}

export function syncFields(s: Summary): Report["sync"] {
  return { p50Ms: round(s.p50), p90Ms: round(s.p90), p99Ms: round(s.p99), maxMs: round(s.max) };
}

export function round(v: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

export function writeReport(path: string, r: Report): void {
  writeFileWhole(path, `${JSON.stringify(r, null, 2)}\n`);
}

// --- Sharded runs (`twinfleet report merge`): the merged report is a Report plus this section. ---

/** One shard's line in a merged report. */
export interface ShardLine {
  readonly shard: number;
  readonly file: string;
  readonly hostname: string;
  readonly nodes: number;
  /** Presses of this shard's nodes. */
  readonly presses: number;
  /** (press, follower) pairs whose follower is in this shard, reflected within 5 s / not. */
  readonly deliveries: number;
  readonly lost: number;
  readonly syncP99Ms: number;
  readonly registrationMaxMs: number;
  readonly lagP99Ms: number;
  /** Its clock minus shard 1's, ms, and how far off that may be (null: no probes both ways). */
  readonly offsetMs: number;
  readonly offsetUncertaintyMs: number | null;
  /** Its clock is its host's date to within this (ms, fleet/shard-probe.ts); null: a report from before it was recorded. */
  readonly originUncertaintyMs?: number | null;
  readonly roundTripMs: number | null;
  /**
   * The shard was cut short (a signal stopped it) this many seconds after its presses began; the
   * pairs pressed after that whose follower it ran are in no figure (`unjudgedPairs`).
   */
  readonly cutShort?: { readonly afterPressS: number; readonly unjudgedPairs: number };
  /**
   * Its presses began this many seconds after shard 1's (before: negative), on shard 1's clock, when
   * more than 5 s apart: the shards did not press together.
   */
  readonly pressedApartS?: number;
}

export interface ShardsSection {
  readonly count: number;
  readonly fingerprint: string;
  /** (press, follower) pairs whose source and follower ran in different shards. */
  readonly crossShardPairs: number;
  readonly crossShardSync: Report["sync"];
  /** Largest offset uncertainty against shard 1's clock (a pair of two other shards' can be out by two). */
  readonly offsetUncertaintyMaxMs: number | null;
  /**
   * The most any latency across shards can be out by (fleet/shard-offsets.ts): the two largest of the
   * shards' bounds against shard 1's clock, added; null when a shard's is unknown. Absent in merged
   * reports written before it was.
   */
  readonly crossShardErrorMaxMs?: number | null;
  readonly echo: Report["sync"];
  readonly lines: readonly ShardLine[];
  /** `report merge --partial`: the shards that wrote no report, left out of every figure. */
  readonly missing?: readonly number[];
}

export interface MergedReport extends Report {
  readonly shards: ShardsSection;
}
