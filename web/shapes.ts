/**
 * The JSON the API speaks (docs/web.md, "REST API"), built from the fleet view: a node's summary and
 * detail, the fleet, convergence and latency. Pure functions of a ConsoleSource's snapshots.
 */

import { MINUTE_MS, MINUTES_KEPT, type MinutePoint } from "../twins/index.js";
import type {
  ConsoleNode,
  ConsoleSource,
  ConvergenceSnapshot,
  LatencySnapshot,
  NodeDetail as ViewDetail,
} from "../view/source.js";

export type FleetKind = "twins" | "sim" | "monitor";

export interface NodeSummary {
  readonly id: string;
  readonly kind: "real" | "sim" | "host" | null;
  readonly on: boolean;
  readonly online: boolean;
  readonly sync: "in-sync" | "out-of-sync" | "unknown";
  readonly version: number;
  /** When the twin last changed (ms since the Unix epoch), where the fleet view knows it. */
  readonly changedAt?: number;
  /** What is kept for the node while it is not online (ConsoleNode.waits). */
  readonly waits?: "set" | "pairing" | "set and pairing";
  /** Online only by the status a restarted broker kept, not heard since (ConsoleNode.unheard). */
  readonly unheard?: true;
}

export interface NodeDetail extends NodeSummary {
  readonly profile?: string;
  readonly firmware?: string;
  readonly identity?: string;
  readonly presence: "online" | "offline" | "unknown" | "unheard";
  readonly lastSeen?: number;
  readonly lastSeenAt?: string;
  readonly lastSeenAge?: number;
  readonly registeredAt?: number;
  readonly follows: readonly string[];
  readonly followers: readonly string[];
  readonly desired: {
    readonly sources: readonly string[];
    readonly configVersion: number;
    /** A set or the pairing waits for the node. */
    readonly pending: boolean;
    /** The pairing waits for the node to confirm it (the node page says so, not of a set). */
    readonly pairingPending: boolean;
    readonly pendingSet?: { readonly on: boolean; readonly counter: number };
  };
  readonly sim?: {
    readonly cpuPct?: number;
    readonly ramBytes?: number;
    readonly link?: {
      readonly retransmissions: number;
      readonly timeouts: number;
      readonly reconnects: number;
      readonly dropped?: number;
    };
    readonly cablePulled?: boolean;
  };
  readonly lastMessages: readonly string[];
}

export const CAPABILITY_NAMES = [
  "setLoss",
  "press",
  "set",
  "pair",
  "unpair",
  "powerCycle",
  "pullCable",
  "query",
  "restartBroker",
  "powerOutage",
  "partition",
  "pace",
] as const;
export type CapabilityName = (typeof CAPABILITY_NAMES)[number];

export interface Fleet {
  readonly title: string;
  readonly kind: FleetKind;
  readonly capabilities: Readonly<Record<CapabilityName, boolean>>;
  readonly lossPct: number | null;
  readonly faults: readonly { readonly what: string; readonly since: number }[];
  /** ms on the fleet's clock: on virtual time, the virtual time the run has got to. */
  readonly now: number;
  readonly nodes: number;
  /** A virtual-time run's pace (virtual seconds per wall second, or "max"); null on real time. */
  readonly pace: FleetPace | null;
}

export interface FleetPace {
  readonly speed: number | "max";
  readonly paused: boolean;
}

/** The fleet's pace where it has one (a run on virtual time), else null. */
export function paceOf(source: ConsoleSource): FleetPace | null {
  const p = source.capabilities.pace === true ? source.pace?.() : undefined;
  return p ? { speed: p.speed, paused: p.paused } : null;
}

export function summaryOf(n: ConsoleNode): NodeSummary {
  return {
    id: n.id,
    kind: n.kind ?? null,
    on: n.on,
    online: n.online,
    sync: n.sync,
    version: n.version ?? 0,
    ...(n.changedAt !== undefined ? { changedAt: Math.round(n.changedAt) } : {}),
    ...(n.waits !== undefined ? { waits: n.waits } : {}),
    ...(n.unheard === true ? { unheard: true } : {}),
  };
}

/**
 * A node's summary as JSON, kept per snapshot: a view replaces a node's (readonly) object when the
 * node changes, so an unchanged node's text is reused — `/api/nodes` for 5,000 nodes then joins
 * strings instead of building and serialising 5,000 objects on the fleet's main thread.
 */
const summaryText = new WeakMap<ConsoleNode, string>();
export function summaryJson(n: ConsoleNode): string {
  let text = summaryText.get(n);
  if (text === undefined) {
    text = JSON.stringify(summaryOf(n));
    summaryText.set(n, text);
  }
  return text;
}

export function detailOf(d: ViewDetail): NodeDetail {
  const sim =
    d.cpuPct !== undefined || d.ramBytes !== undefined || d.link !== undefined || d.cablePulled !== undefined
      ? {
          ...(d.cpuPct !== undefined ? { cpuPct: d.cpuPct } : {}),
          ...(d.ramBytes !== undefined ? { ramBytes: d.ramBytes } : {}),
          ...(d.link !== undefined ? { link: { ...d.link } } : {}),
          ...(d.cablePulled !== undefined ? { cablePulled: d.cablePulled } : {}),
        }
      : undefined;
  return {
    ...summaryOf(d.node),
    ...(d.profile !== undefined ? { profile: d.profile } : {}),
    ...(d.firmware !== undefined ? { firmware: d.firmware } : {}),
    ...(d.identity !== undefined ? { identity: d.identity } : {}),
    presence: d.presence ?? (d.node.online ? "online" : "unknown"),
    ...(d.lastSeen !== undefined ? { lastSeen: d.lastSeen } : {}),
    ...(d.lastSeenAt !== undefined ? { lastSeenAt: d.lastSeenAt } : {}),
    ...(d.lastSeenAge !== undefined ? { lastSeenAge: d.lastSeenAge } : {}),
    ...(d.registeredAt !== undefined ? { registeredAt: d.registeredAt } : {}),
    follows: [...d.follows],
    followers: [...d.followers],
    desired: d.desired
      ? {
          sources: [...d.desired.sources],
          configVersion: d.desired.configVersion,
          pending: d.desired.pending,
          pairingPending:
            d.desired.pairingPending ?? (d.desired.pending && d.desired.pendingSet === undefined),
          ...(d.desired.pendingSet !== undefined ? { pendingSet: { ...d.desired.pendingSet } } : {}),
        }
      : { sources: [...d.follows], configVersion: 0, pending: false, pairingPending: false },
    ...(sim ? { sim } : {}),
    lastMessages: [...(d.lastMessages ?? [])],
  };
}

export function fleetOf(source: ConsoleSource, kind: FleetKind): Fleet {
  const caps = Object.fromEntries(
    CAPABILITY_NAMES.map((c) => [c, source.capabilities[c] === true]),
  ) as Record<CapabilityName, boolean>;
  return {
    title: source.title,
    kind,
    capabilities: caps,
    lossPct: source.lossPct() ?? null,
    faults: source.faults().map((f) => ({ what: f.what, since: f.since })),
    now: source.now(),
    nodes: source.nodes().length,
    pace: paceOf(source),
  };
}

export interface Convergence {
  readonly fraction: number;
  readonly inSync: number;
  readonly known: number;
  /** Of the known followers, those online now (ConvergenceSnapshot.online). */
  readonly online?: number;
  /** Of the known followers, those not heard since the broker restarted (ConvergenceSnapshot.unheard). */
  readonly unheard?: number;
  /** The share is held from before the twins service's own re-read of the broker's state (ConvergenceSnapshot.held). */
  readonly held?: true;
  readonly history: readonly {
    readonly t: number;
    readonly fraction: number;
    readonly known?: number;
    readonly online?: number;
    readonly unheard?: number;
    readonly stoppedUntil?: number;
    readonly held?: true;
  }[];
  /** When this was read, on the history's clock: the chart's right edge ("now"). */
  readonly t: number;
  /** A live fleet's broker outages of late (ConvergenceSnapshot.away): the chart's `broker away` band. */
  readonly away?: readonly { readonly from: number; readonly to?: number }[];
}

/** The share now and its history, read at `now` (the source's clock), with the broker's outages. */
export function convergenceOf(c: ConvergenceSnapshot, now: number): Convergence {
  return {
    fraction: c.fraction,
    inSync: c.inSync,
    known: c.known,
    ...(c.online !== undefined ? { online: c.online } : {}),
    ...(c.unheard !== undefined ? { unheard: c.unheard } : {}),
    ...(c.held === true ? { held: true as const } : {}),
    history: c.history.map((h) => ({ ...h })),
    t: now,
    ...(c.away !== undefined ? { away: awayOf(c.away) } : {}),
  };
}

/** The long tier of the convergence history (`/api/convergence/minutes`), read at `now`. */
export interface ConvergenceMinutes {
  readonly minuteMs: number;
  /** How many minutes the service keeps: the chart's span. */
  readonly kept: number;
  readonly t: number;
  readonly minutes: readonly MinutePoint[];
}

export function minutesOf(minutes: readonly MinutePoint[], now: number): ConvergenceMinutes {
  return { minuteMs: MINUTE_MS, kept: MINUTES_KEPT, t: now, minutes: minutes.map((m) => ({ ...m })) };
}

/** The `away` spans as the API sends them (`to` absent while the outage lasts). */
export function awayOf(
  away: NonNullable<ConvergenceSnapshot["away"]>,
): { readonly from: number; readonly to?: number }[] {
  return away.map((a) => (a.to === undefined ? { from: a.from } : { from: a.from, to: a.to }));
}

export function latencyOf(l: LatencySnapshot) {
  return {
    count: l.count,
    p50Ms: l.p50Ms,
    p99Ms: l.p99Ms,
    bucketMs: l.bucketMs,
    buckets: [...l.buckets],
    overflow: l.overflow,
  };
}
