/**
 * A fleet's figures for a metrics endpoint, read when scraped: a fleet run's (the checker's sync
 * latencies, late and lost pairs, reconnects, the broker's clients and messages, the twins' bad
 * input, each thread's event-loop lag) and a live fleet's (what its twins service counts).
 */
import type { FleetRun } from "../fleet/run.js";
import type { DropReason } from "../protocol/index.js";
import type { BrokerState, Twins } from "../twins/index.js";
import { behindWatch } from "./behind.js";
import { ReportTiming } from "./latency.js";

/**
 * What `/metrics` reads beyond the view (lag, broker, late and lost), every figure optional; defined
 * here, under the web, so the view does not import it.
 */
export interface Figures {
  /** Sync latencies (ms) recorded since the last call: the histogram takes them at scrape time. */
  latencySince?(): readonly number[];
  /** Pairs reflected later than 5 s, and pairs lost (late plus never reflected), so far. */
  late?(): number;
  lost?(): number;
  /** Node reconnects (disconnections followed by a new session) so far. */
  reconnects?(): number;
  /** Clients connected to the broker now. */
  brokerClients?(): number;
  /** Messages the broker took in from clients and delivered to them, so far. */
  brokerMessages?(): { readonly in: number; readonly out?: number };
  /**
   * A live fleet: the twins service's broker now, heard from (`up`), connected but silent for 5 s
   * (`silent`, docs/twins.md "A silent broker") or its connection down (`lost`).
   */
  twinsBroker?(): BrokerState;
  /**
   * A live fleet: the twins service's outages of its broker that have ended so far, by cause: `own-stall`,
   * the service itself did not run (stopped, its VM paused) and lost its connection on its own timers,
   * back soon after; `broker`, any other (the broker, or the path to it).
   */
  twinsBrokerOutages?(): { readonly "own-stall": number; readonly broker: number };
  /** A live fleet: whether the twins service's desired state is saved (false while saves fail: a full disk). */
  twinsStoreSaved?(): boolean;
  /** A live fleet: whether its convergence history is written (false while its writes fail). */
  twinsHistoryWritten?(): boolean;
  /** A live fleet: how many other twins services hold a presence on it now (docs/twins.md, "Presence"). */
  twinsOtherServices?(): number;
  /**
   * The longest an online follower has been behind a direct source now, ms (0: none is;
   * view/behind.ts).
   */
  behindMaxMs?(): number;
  /** Bad inputs the twins counted, by reason. */
  badInput?(): Readonly<Record<string, number>>;
  /** A live fleet: messages its broker dropped, by what (twins/types.ts, `broker-dropped`). */
  brokerDropped?(): Readonly<Record<string, number>>;
  /** A live fleet: its reads of the broker's retained state whose replay the broker cut (twins/types.ts, `replay-cut`). */
  replaysCut?(): number;
  /** Nodes the twins told as flapping (offline 3 times within 30 s), so far. */
  flapping?(): number;
  /** Nodes retired for being silent past `--forget-after` (twins/forget-after.ts); a twins service's only. */
  forgottenSilent?(): number;
  /** A sim: messages its nodes dropped so far, by reason (node/metrics.ts, DropCounts). */
  nodeDrops?(): Readonly<Partial<Record<DropReason, number>>>;
  /** A sim: packets over its nodes' PubSubClient buffer, drained and dropped, so far. */
  nodeOversized?(): number;
  /** A sim: nodes whose sessions another client with the same id keeps taking over, so far. */
  idsInUse?(): number;
  /**
   * Event-loop lag p99 in ms by thread (`main`, `worker-0`, …) now: over each worker's and the
   * broker thread's last second, the main thread's since the previous read.
   */
  lagP99Ms?(): Readonly<Record<string, number>>;
}

/** Latencies a fleet run holds for the next scrape, at most. */
const LATENCIES_HELD = 200_000;

export function simFigures(run: FleetRun): Figures {
  const checker = run.collector.checker;
  // Latencies wait here between scrapes: at most LATENCIES_HELD (a scrape every few minutes at a
  // thousand deliveries a second); past it the newest are not held, and the histogram undercounts.
  let held: number[] = [];
  checker.onReflected((ms) => {
    if (held.length < LATENCIES_HELD) held.push(ms);
  });
  return {
    latencySince() {
      const out = held;
      held = [];
      return out;
    },
    late: () => checker.counts().late,
    lost: () => checker.counts().lost,
    reconnects: () => run.collector.disconnects,
    idsInUse: () => run.clashes.count,
    nodeDrops: () => run.collector.drops,
    nodeOversized: () => run.collector.oversized,
    flapping: flapCount(run.twins),
    behindMaxMs: behindWatch(run.twins, () => run.sched.now()),
    badInput: () => run.twins.badInput().byReason,
    lagP99Ms: () => run.lagRecentP99ByThread(),
    // Only a broker of the run's own, in its process, is counted here: with someone else's broker
    // (`--broker`), a broker process or virtual time's in-memory one these were 0, read as a broker
    // without clients or traffic.
    ...(run.brokerStats() !== undefined
      ? {
          brokerClients: () => run.brokerStats()?.clients ?? 0,
          brokerMessages: () => {
            const b = run.brokerStats();
            return {
              in: b?.messagesIn ?? 0,
              ...(b?.messagesOut !== undefined ? { out: b.messagesOut } : {}),
            };
          },
        }
      : {}),
  };
}

/** Counts the flapping nodes a twins service tells, from now on. */
function droppedCount(twins: Pick<Twins, "on">): () => Readonly<Record<string, number>> {
  const n: Record<string, number> = { "retained-write": 0, "to-clients": 0 };
  twins.on("broker-dropped", (what, count) => {
    n[what] = (n[what] ?? 0) + count;
  });
  return () => n;
}

function silentCount(twins: Pick<Twins, "on">): () => number {
  let n = 0;
  twins.on("twin-silent-forgotten", () => n++);
  return () => n;
}

function flapCount(twins: Pick<Twins, "on">): () => number {
  let n = 0;
  twins.on("twin-flapping", () => n++);
  return () => n;
}

/**
 * The twins service's broker as its `broker` events tell it, from now on: up until told otherwise,
 * or lost while a service that waits for its broker has not reached it (its connection not made).
 */
function brokerState(twins: Pick<Twins, "on" | "waiting">): () => BrokerState {
  let state: BrokerState = twins.waiting === undefined ? "up" : "lost";
  twins.on("broker", (connected, _lastHeardAt, how) => {
    state = connected ? "up" : how === "silent" ? "silent" : "lost";
  });
  return () => state;
}

/** The service's broker outages that have ended, by cause, from its `broker` events (a wait to reach it is none). */
function outageCauses(twins: Pick<Twins, "on" | "waiting">): () => { "own-stall": number; broker: number } {
  const n = { "own-stall": 0, broker: 0 };
  let away = false;
  twins.on("broker", (connected, _lastHeardAt, how, stall) => {
    if (!connected) away = how !== "unreached";
    else if (away) {
      away = false;
      n[stall === undefined ? "broker" : "own-stall"] += 1;
    }
  });
  return () => ({ ...n });
}

/**
 * Latencies timed as the twins see them (view/latency.ts ReportTiming: a node's own report of a
 * change, or a later pairing that brought it, until a follower's report of it), held for the next
 * scrape as a run's are.
 */
function reportLatencies(twins: Pick<Twins, "on" | "get">, now: () => number): () => readonly number[] {
  let held: number[] = [];
  const timing = new ReportTiming(
    {
      record(ms) {
        if (held.length < LATENCIES_HELD) held.push(ms);
      },
    },
    (id) => twins.get(id),
  );
  twins.on("twin-updated", (t, change, replayed) => timing.updated(t, change, now(), replayed));
  twins.on("twin-forgotten", (id) => timing.forget(id));
  return () => {
    const out = held;
    held = [];
    return out;
  };
}

/**
 * A live fleet through its twins service: bad input by reason, flapping nodes, its broker, its
 * store, the sync latency it can time and its followers behind. `now`: the service's clock (ms).
 */
export function twinsFigures(
  twins: Pick<
    Twins,
    | "badInput"
    | "on"
    | "waiting"
    | "unsavedSince"
    | "historyUnwritten"
    | "get"
    | "convergence"
    | "otherServices"
    | "replaysCut"
  >,
  now: () => number,
): Figures {
  return {
    latencySince: reportLatencies(twins, now),
    behindMaxMs: behindWatch(twins, now),
    badInput: () => twins.badInput().byReason,
    brokerDropped: droppedCount(twins),
    replaysCut: () => twins.replaysCut?.() ?? 0,
    flapping: flapCount(twins),
    forgottenSilent: silentCount(twins),
    twinsBroker: brokerState(twins),
    twinsBrokerOutages: outageCauses(twins),
    twinsStoreSaved: () => twins.unsavedSince === undefined,
    twinsHistoryWritten: () => twins.historyUnwritten?.() === undefined,
    twinsOtherServices: () => twins.otherServices.length,
  };
}
