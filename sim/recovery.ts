/**
 * What each fault did to the fleet, from the checker's records and the nodes' timelines: how long
 * the fleet took to recover after the fault ended, and which presses it delayed or lost. A fault's
 * window runs from its start until the fleet has recovered; a (press, follower) pair belongs to it
 * when the time between the press and its delivery overlaps that window (docs/metrics.md).
 */
import type { NodeId } from "../protocol/index.js";
import { type EarlyPairs, LOST_AFTER_MS, overlapsAny, type PairRecord, type SlowPair } from "./checker.js";
import { Distribution, type Summary } from "./histogram.js";

/** One fault as it happened, on the run's clock. */
export interface FaultSpan {
  readonly kind: string;
  /** When it started and ended (ms on the run's clock). */
  readonly startMs: number;
  readonly endMs: number;
  /** The nodes it hit directly; undefined: the whole fleet (the broker, the twins, the network). */
  readonly nodes: readonly NodeId[] | undefined;
  /**
   * Every node it hit must register again, whether or not it lost a connection to it: after a twins
   * restart with the new service; after a power cut once it has booted (a node that was offline when
   * the power went had no session to lose, and is back only when it has registered).
   */
  readonly reregisterAll?: boolean;
}

/** Per node, the times it lost its connection, registered with the twins, and went offline there. */
export class NodeTimeline {
  readonly disconnects = new Map<NodeId, number[]>();
  readonly registrations = new Map<NodeId, number[]>();
  readonly offline = new Map<NodeId, number[]>();

  disconnected(node: NodeId, at: number): void {
    push(this.disconnects, node, at);
  }

  registered(node: NodeId, at: number): void {
    push(this.registrations, node, at);
  }

  wentOffline(node: NodeId, at: number): void {
    push(this.offline, node, at);
  }

  /**
   * Every node that lost its connection has registered again since it last did: what a fault's
   * recovery waits for (a run that waited for its nodes to sync only could end before the twins
   * heard them back, and report them never back).
   */
  allBackSinceCut(): boolean {
    for (const [node, cuts] of this.disconnects) {
      const regs = this.registrations.get(node);
      if (regs === undefined || (regs.at(-1) as number) < (cuts.at(-1) as number)) return false;
    }
    return true;
  }
}

export interface FaultOutcome {
  /** The nodes it hit directly (the fleet's size when it hit them all). */
  readonly nodes: number;
  /** From the fault's end until the fleet recovered; null when it had not by the end of the run. */
  readonly recoveryMs: number | null;
  /** Of the nodes hit, how many lost their connection (and so had to come back). */
  readonly disconnected: number;
  /** The slowest of those to register again after the fault ended; null if one never did. */
  readonly reregisteredMaxMs: number | null;
  /** The slowest of the nodes hit to show offline in the twins after the fault started, if any did. */
  readonly offlineDetectedMaxMs: number | null;
  readonly pressesDuring: number;
  /** Pairs of the window reflected, but later than the paper's 5 s. */
  readonly lateBeyond5s: number;
  readonly lostForGood: number;
  /** The window on the run's clock: from the fault's start until it recovered (or the run ended). */
  readonly windowEndMs: number;
  /**
   * Of the nodes hit, those another fault held (heldElsewhere), and its kinds:
   * their return and the pairs that touch them count there, not here. Absent when none.
   */
  readonly held?: number;
  readonly heldBy?: readonly string[];
}

export interface FaultAnalysis {
  readonly outcomes: readonly FaultOutcome[];
  /** Sync latency of the pairs outside every fault's window (reflected within 5 s). */
  readonly outside: Summary;
  /** Pairs outside every window not reflected within 5 s. */
  readonly lostOutside: number;
}

export interface AnalysisInput {
  readonly faults: readonly FaultSpan[];
  readonly fleet: readonly NodeId[];
  /** Who follows each node, directly or through a chain (sim/topology.ts followersReach). */
  readonly reach: ReadonlyMap<NodeId, readonly NodeId[]>;
  readonly timeline: NodeTimeline;
  readonly pairs: PairRecord;
  readonly slow: readonly SlowPair[];
  readonly pressTimes: readonly number[];
  /** Pairs settled before any fault began, no longer in `pairs` (SyncChecker.early). */
  readonly early?: EarlyPairs;
  /** When the run's checks ended. */
  readonly endMs: number;
  /** Other faults of the run, not measured here, that may hold nodes (heldElsewhere): the run's faults, for its broker outages. */
  readonly alsoHolding?: readonly FaultSpan[];
}

/** A node whose connection drops within this of the fault's end lost it to the fault. */
export const DISCONNECT_SLACK_MS = 1000;

export function analyzeFaults(input: AnalysisInput): FaultAnalysis {
  const reachSets = new Map<NodeId, ReadonlySet<NodeId>>();
  const reachOf = (n: NodeId): ReadonlySet<NodeId> => {
    let set = reachSets.get(n);
    if (!set) {
      set = new Set(input.reach.get(n) ?? []);
      reachSets.set(n, set);
    }
    return set;
  };
  const holders: Holder[] = [...input.faults, ...(input.alsoHolding ?? [])]
    .filter((g) => HOLDING.has(g.kind))
    .map((span) => ({ span, nodes: span.nodes ? new Set(span.nodes) : undefined }));
  const outcomes = input.faults.map((f) => analyzeOne(f, input, reachOf, holders));
  const windows = input.faults.map((f, i) => ({
    from: f.startMs,
    to: outcomes[i]?.windowEndMs ?? input.endMs,
  }));
  const outside = new Distribution(1000, 600_000);
  let lostOutside = 0;
  if (input.early) {
    outside.add(input.early.latency);
    lostOutside += input.early.lost;
  }
  const { pressAt, latencyMs } = input.pairs;
  for (let i = 0; i < pressAt.length; i++) {
    const at = pressAt[i] as number;
    const ms = latencyMs[i] as number;
    const until = at + ms;
    if (overlapsAny(windows, at, until)) continue;
    if (ms <= LOST_AFTER_MS) outside.record(ms);
    else lostOutside++;
  }
  return { outcomes, outside: outside.summary(), lostOutside };
}

/** Faults that keep the nodes they hit from coming back while they last (a loss step or a frozen client does not). */
const HOLDING = new Set(["broker-restart", "broker-lost", "power-outage", "partition", "twins-restart"]);

/** A holding fault and the nodes it hit (undefined: the whole fleet). */
interface Holder {
  readonly span: FaultSpan;
  readonly nodes: ReadonlySet<NodeId> | undefined;
}

/**
 * The fault that still held `node` when it would have been back from `f`, if one did: a fault that
 * keeps nodes from coming back, hit `node` too, began before it registered again (`reg`; undefined:
 * it never did) and ended after `f` — or, when `f` itself holds no one (a frozen client, a loss
 * burst), overlapped it at all. A broker restart inside a 60 s partition would otherwise report the
 * partition's length as its own recovery, and a frozen client the restart's lost sessions. Two that
 * end at one instant (a power outage inside a broker restart, on virtual time): the one begun first
 * holds (then the one first in the schedule), so their pairs are counted once, not in both rows.
 */
function heldElsewhere(
  f: FaultSpan,
  node: NodeId,
  reg: number | undefined,
  others: readonly Holder[],
): FaultSpan | undefined {
  const holds = HOLDING.has(f.kind);
  const mine = others.findIndex((o) => o.span === f);
  for (const [i, { span: g, nodes }] of others.entries()) {
    if (g === f || g.startMs > (reg ?? Number.POSITIVE_INFINITY)) continue;
    const outlasts =
      g.endMs > f.endMs ||
      (g.endMs === f.endMs && (g.startMs < f.startMs || (g.startMs === f.startMs && mine >= 0 && i < mine)));
    if (holds ? !outlasts : g.endMs < f.startMs) continue;
    if (nodes === undefined || nodes.has(node)) return g;
  }
  return undefined;
}

function analyzeOne(
  f: FaultSpan,
  input: AnalysisInput,
  reachOf: (n: NodeId) => ReadonlySet<NodeId>,
  holders: readonly Holder[],
): FaultOutcome {
  const hit = f.nodes ?? input.fleet;
  const hitSet = f.nodes ? new Set(f.nodes) : undefined;
  const { timeline } = input;
  const held = new Set<NodeId>();
  const heldBy = new Set<string>();
  let back = f.endMs;
  let disconnected = 0;
  /** Whether any node hit had to register again (else the re-registration max is 0). */
  let registering = false;
  let reregisteredMax: number | null = 0;
  let offlineMax: number | null = null;
  for (const node of hit) {
    const drops = (timeline.disconnects.get(node) ?? []).filter(
      (t) => t >= f.startMs && t <= f.endMs + DISCONNECT_SLACK_MS,
    );
    // A node already down when the fault began (another fault's) is back from this one only once
    // it has registered after it: a partition keeps it from reconnecting as it would a live one.
    const mustRegister = f.reregisterAll === true || drops.length > 0 || downAt(timeline, node, f.startMs);
    registering ||= mustRegister;
    if (drops.length > 0) disconnected++;
    // A twins restart: a registration after the kill is one with the new service, which reads the
    // retained messages and its query's answers while it connects, before the fault's end. A node
    // that kept its session is back when the fault ends.
    const after = Math.max(f.startMs, ...drops);
    const reg = mustRegister ? (timeline.registrations.get(node) ?? []).find((t) => t >= after) : f.endMs;
    const holder = heldElsewhere(f, node, reg, holders);
    if (holder !== undefined) {
      held.add(node);
      heldBy.add(holder.kind);
    } else if (reg === undefined) {
      back = Number.POSITIVE_INFINITY;
      reregisteredMax = null;
    } else if (mustRegister) {
      back = Math.max(back, reg);
      if (reregisteredMax !== null) reregisteredMax = Math.max(reregisteredMax, reg - f.endMs, 0);
    }
    const off = (timeline.offline.get(node) ?? []).find((t) => t >= f.startMs && t <= f.endMs);
    if (off !== undefined) offlineMax = Math.max(offlineMax ?? 0, off - f.startMs);
  }
  // Slow pairs touching a node the fault hit — as source, follower, or on a chain between them (C
  // follows B follows A: a press on A waits for B) — in press order: each one in flight during the
  // window stretches it to its delivery; one never delivered means the fleet never recovered.
  // A pair through a node another fault held (source, follower or between) is that fault's.
  const through = (p: SlowPair, nodes: ReadonlySet<NodeId>): boolean => {
    if (nodes.has(p.source) || nodes.has(p.follower)) return true;
    // Between them: a node the source's press reaches that reaches the follower (the smaller set walked).
    const downstream = reachOf(p.source);
    const [walk, other] = downstream.size <= nodes.size ? [downstream, nodes] : [nodes, downstream];
    for (const n of walk) if (other.has(n) && reachOf(n).has(p.follower)) return true;
    return false;
  };
  const touches = (p: SlowPair): boolean => {
    if (held.size > 0 && through(p, held)) return false;
    return hitSet === undefined || through(p, hitSet);
  };
  let windowEnd = back;
  const touching = input.slow.filter(touches).sort((a, b) => a.pressAt - b.pressAt);
  let late = 0;
  let lost = 0;
  for (const p of touching) {
    if (p.pressAt > windowEnd) break;
    const until = p.appliedAt ?? Number.POSITIVE_INFINITY;
    if (until < f.startMs) continue;
    windowEnd = Math.max(windowEnd, until);
    if (p.appliedAt === undefined) lost++;
    else if (p.appliedAt - p.pressAt > LOST_AFTER_MS) late++;
  }
  const recovered = Number.isFinite(windowEnd);
  const end = recovered ? windowEnd : input.endMs;
  const pressesDuring = input.pressTimes.filter((t) => t >= f.startMs && t <= end).length;
  return {
    nodes: hit.length,
    recoveryMs: recovered ? Math.max(0, windowEnd - f.endMs) : null,
    disconnected,
    reregisteredMaxMs: registering ? reregisteredMax : 0,
    offlineDetectedMaxMs: offlineMax,
    pressesDuring,
    lateBeyond5s: late,
    lostForGood: lost,
    windowEndMs: end,
    ...(held.size > 0 ? { held: held.size, heldBy: [...heldBy] } : {}),
  };
}

/** Whether `node` had lost its connection at `at` and not registered again since. */
function downAt(timeline: NodeTimeline, node: NodeId, at: number): boolean {
  const lastBefore = (times: readonly number[] | undefined) => {
    let last = Number.NEGATIVE_INFINITY;
    for (const t of times ?? []) if (t < at && t > last) last = t;
    return last;
  };
  const drop = lastBefore(timeline.disconnects.get(node));
  return drop > Number.NEGATIVE_INFINITY && lastBefore(timeline.registrations.get(node)) < drop;
}

function push(m: Map<NodeId, number[]>, node: NodeId, at: number): void {
  const list = m.get(node);
  if (list) list.push(at);
  else m.set(node, [at]);
}
