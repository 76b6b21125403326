/**
 * What a fleet run tells whoever watches it while it runs: its phase, a progress snapshot every
 * --progress-every seconds of its clock (on virtual time with how much faster than real time it
 * goes), log lines, and faults as they start and end; the snapshot made from the run's parts.
 */
import type { Collector } from "./collector.js";
import type { FaultRecord } from "./faults/runner.js";
import type { SettleStatus } from "./settle.js";

/** Where a fleet run is: nodes booting, presses running, settling, done. */
export type RunPhase = "boot" | "press" | "settle" | "done";

export interface Progress {
  readonly phase: RunPhase;
  readonly elapsedS: number;
  readonly nodes: number;
  readonly registered: number;
  readonly online: number;
  /** Nodes that lost their connection and have not synced again since. */
  readonly away: number;
  readonly presses: number;
  /** Presses made by nodes while offline, held until they publish (counted in `presses` then). */
  readonly held: number;
  readonly deliveries: number;
  readonly lost: number;
  readonly lostForGood: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly lossPct: number;
  readonly lagP99Ms: number;
  /** Faults in progress now. */
  readonly faults: number;
  /** How long the twins service has been without the broker (s); undefined while connected. */
  readonly brokerLostS?: number | undefined;
  /** The broker's refusal of the run's login during the outage under way (its answer), if it refused it. */
  readonly brokerRefused?: string | undefined;
  /** Nodes found with their sessions taken over by another client with the same id; absent when none. */
  readonly clashes?: number;
  /** Nodes whose sessions the broker closes right after accepting them (fleet/session-clashes.ts); only when some are. */
  readonly cutAtConnack?: number;
  /** During the settle: how long it has left and what it waits for. */
  readonly settle?: SettleStatus;
  /** On virtual time: wall seconds so far, and virtual seconds per wall second. */
  readonly virtual?: { readonly wallS: number; readonly speedup: number };
}

export interface FleetRunEvents {
  progress: [Progress];
  phase: [RunPhase];
  /** A line for whoever watches the run (the progress lines, the console's event log). */
  log: [text: string, level: "info" | "error"];
  "fault-start": [FaultRecord];
  "fault-end": [FaultRecord];
}

/** The checker's figures so far, as a progress snapshot shows them. */
export function collectorFigures(
  collector: Collector,
): Pick<
  Progress,
  "online" | "away" | "presses" | "held" | "deliveries" | "lost" | "lostForGood" | "p50Ms" | "p99Ms"
> {
  const c = collector.checker.counts();
  const lat = collector.checker.latency;
  return {
    online: collector.online.size,
    away: collector.away.size,
    presses: c.presses,
    held: collector.holding,
    deliveries: c.deliveries,
    lost: c.lost,
    lostForGood: c.lostForGood,
    p50Ms: lat.percentile(50),
    p99Ms: lat.percentile(99),
  };
}

/** What a run's progress snapshot is made of (fleet/run.ts), its parts' own figures read here. */
export interface ProgressParts extends Pick<Progress, "phase" | "elapsedS" | "lossPct"> {
  readonly ids: readonly unknown[];
  /** The nodes registered so far. */
  readonly registeredAt: { readonly size: number };
  readonly collector: Collector;
  /** The threads' lag; none on virtual time. */
  readonly lag: { worst(): { readonly p99Ms: number } } | undefined;
  readonly faults: { readonly inProgress: number };
  readonly outages: { progress(): Pick<Progress, "brokerLostS" | "brokerRefused"> };
  readonly clashes: { progress(): Pick<Progress, "clashes" | "cutAtConnack"> };
  /** Read in the settle only. */
  readonly settle: SettleStatus | undefined;
  readonly virtual: { wallElapsedS(): number; speedup(): number } | undefined;
}

/** The run's progress snapshot now. */
export function runProgress(p: ProgressParts): Progress {
  const { phase, virtual } = p;
  return {
    phase,
    elapsedS: p.elapsedS,
    nodes: p.ids.length,
    registered: p.registeredAt.size,
    ...collectorFigures(p.collector),
    lossPct: p.lossPct,
    lagP99Ms: p.lag?.worst().p99Ms ?? 0,
    faults: p.faults.inProgress,
    ...p.outages.progress(),
    ...p.clashes.progress(),
    ...(phase === "settle" ? { settle: p.settle } : {}),
    ...(virtual ? { virtual: { wallS: virtual.wallElapsedS(), speedup: virtual.speedup() } } : {}),
  };
}
