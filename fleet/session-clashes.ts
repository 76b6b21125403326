/**
 * Nodes whose sessions another client takes over: a second fleet or a board connected with the same
 * client ids makes the broker close each connection when the other connects (MQTT-3.1.4-2), over and
 * over, and the run's figures then mix the two. Read from the nodes' own disconnects: a node whose
 * session the broker closed CLASH_CLOSES times within CLASH_WINDOW_MS, while the broker stayed up
 * and no fault was under way, is taken as clashing. Closes excused by a fault or an outage (a broker
 * restarting closes every session) do not count.
 *
 * A takeover closes a connection the broker had accepted and served: the other client connects a
 * while after (its own reconnect, at most once a reconnect period), and the node's subscribe, sent
 * with its CONNACK, is answered by then (of two simulated fleets' closes on `twinfleet broker` and on
 * Mosquitto, every one). A broker (or something between)
 * that closes each connection right after its CONNACK, before answering anything, leaves the same
 * count of closes but never a served one: a node whose first CUT_CLOSES closes were all such
 * (`unanswered`) is told as the broker ending its sessions, not as another client; a burst is told
 * as a clash once a served session of the node has been closed (and one after a node was taken for
 * the broker's cuts makes it a clash too).
 */
import { Bursts, type NodeId } from "../protocol/index.js";
import type { BrokerOutages } from "./broker-outages.js";
import type { Collector } from "./collector.js";

/** This many closes by the broker within the window make a clash; a board's reboot is one. */
export const CLASH_CLOSES = 3;
export const CLASH_WINDOW_MS = 30_000;
/**
 * This many closes of a node, every one before the broker answered anything after the CONNACK, make
 * the broker's own: a broker closing each connection at once never serves one. A takeover closes a
 * served session: the other client connects at its own next attempt, at most once a reconnect period
 * (5 s on the Uno), well after the node's subscribe was answered — of two simulated fleets side by
 * side, 520 closes on `twinfleet broker` and 520 on Mosquitto, every one served. (It was 50 while the
 * simulated node reconnected at once after any loss, as the sketch does not: two fleets then took
 * each other's sessions over at every round trip, up to 10 in a row before the answer.) At the
 * Uno's period 5 closes take about 20 s.
 */
export const CUT_CLOSES = 5;
/** A close within this of a broker outage is the outage's (the twins may notice it a little later). */
export const OUTAGE_MARGIN_MS = 2000;
/** How many clashing ids a report names. */
const IDS_NAMED = 10;

export interface SessionClashReport {
  /** Nodes whose session the broker closed CLASH_CLOSES times within the window. */
  readonly nodes: number;
  /** Every close of theirs by the broker that a fault or an outage did not explain. */
  readonly closes: number;
  /** The first of them (at most 10), in the order they were found. */
  readonly ids: readonly NodeId[];
  /** When the first was found (ms since the presses started; negative: before). */
  readonly firstAtMs: number;
}

/** Nodes found one way, in the order found, with when; their closes counted. */
class Found {
  readonly at = new Map<NodeId, number>();

  report(originMs: number, closes: ReadonlyMap<NodeId, number>): SessionClashReport | undefined {
    if (this.at.size === 0) return undefined;
    const ids = [...this.at.keys()];
    return {
      nodes: ids.length,
      closes: ids.reduce((n, id) => n + (closes.get(id) ?? 0), 0),
      ids: ids.slice(0, IDS_NAMED),
      firstAtMs: Math.round((this.at.values().next().value as number) - originMs),
    };
  }
}

export class SessionClashes {
  /** Each node's unexcused closes: a burst of them is told once. */
  private readonly bursts = new Bursts<NodeId>(CLASH_CLOSES, CLASH_WINDOW_MS);
  /** Each node's unexcused closes, all told, and when the first was. */
  private readonly closes = new Map<NodeId, number>();
  private readonly firstAt = new Map<NodeId, number>();
  /** Nodes the broker served before it closed them, at least once (what a takeover leaves). */
  private readonly served = new Set<NodeId>();
  /** Nodes with a burst of closes while none was of a served session yet: the burst's span. */
  private readonly pending = new Map<NodeId, number>();
  /** Nodes with a burst of closes, some of a session the broker had served: clashes. */
  private readonly clashes = new Found();
  /** Nodes with CUT_CLOSES closes, every one right after the CONNACK. */
  private readonly cuts = new Found();

  /**
   * `excused(at)`: whether a close at `at` has another cause (a fault under way, the broker lost
   * about then). `clash(node, at, windowMs)` hears of each node found clashing, once; `cut(node,
   * at, spanMs)` of each whose CUT_CLOSES sessions the broker all closed right after accepting them.
   */
  constructor(
    private readonly excused: (at: number) => boolean,
    private readonly clash: (node: NodeId, at: number, windowMs: number) => void,
    private readonly cut: (node: NodeId, at: number, spanMs: number) => void = () => {},
  ) {}

  /**
   * The broker closed `node`'s session at `at` (called in time order, per node at least);
   * `unanswered`: before it sent anything after the CONNACK.
   */
  closed(node: NodeId, at: number, unanswered = false): void {
    if (this.excused(at)) return;
    const closes = (this.closes.get(node) ?? 0) + 1;
    this.closes.set(node, closes);
    if (!this.firstAt.has(node)) this.firstAt.set(node, at);
    if (!unanswered) this.served.add(node);
    const windowMs = this.bursts.hit(node, at) ?? this.pending.get(node);
    if (this.served.has(node)) {
      if (windowMs === undefined || this.clashes.at.has(node)) return;
      // Taken for the broker's own closes, or waiting, until a served session of its was closed.
      this.pending.delete(node);
      this.cuts.at.delete(node);
      this.clashes.at.set(node, at);
      this.clash(node, at, windowMs);
      return;
    }
    if (windowMs !== undefined) this.pending.set(node, windowMs);
    if (closes === CUT_CLOSES) {
      this.cuts.at.set(node, at);
      this.cut(node, at, at - (this.firstAt.get(node) ?? at));
    }
  }

  /** Nodes found clashing. */
  get count(): number {
    return this.clashes.at.size;
  }

  /** Nodes found with every session closed by the broker right after its CONNACK. */
  get cutCount(): number {
    return this.cuts.at.size;
  }

  /** For the report; undefined when no node clashed (a report without clashes has no field). */
  report(originMs: number): SessionClashReport | undefined {
    return this.clashes.report(originMs, this.closes);
  }

  /** The nodes whose sessions the broker closed right after accepting them; undefined when none. */
  cutReport(originMs: number): SessionClashReport | undefined {
    return this.cuts.report(originMs, this.closes);
  }

  /** Both, for the run's report (fleet/summarize.ts). */
  reports(originMs: number): { clashes?: SessionClashReport; cutAtConnack?: SessionClashReport } {
    const clashes = this.report(originMs);
    const cut = this.cutReport(originMs);
    return { ...(clashes && { clashes }), ...(cut && { cutAtConnack: cut }) };
  }

  /** Both under the report's keys (a shard's report): `sessionClashes`, `sessionsCutAtConnack`. */
  reportKeys(originMs: number): {
    sessionClashes?: SessionClashReport;
    sessionsCutAtConnack?: SessionClashReport;
  } {
    const { clashes, cutAtConnack } = this.reports(originMs);
    return {
      ...(clashes && { sessionClashes: clashes }),
      ...(cutAtConnack && { sessionsCutAtConnack: cutAtConnack }),
    };
  }

  /** For a shard's progress line: `; IDS IN USE n`, `; CLOSED AT CONNACK n`, those above 0. */
  words(): string {
    const cut = this.cutCount;
    return `${this.count > 0 ? `; IDS IN USE ${this.count}` : ""}${cut > 0 ? `; CLOSED AT CONNACK ${cut}` : ""}`;
  }

  /** Both counts, for a progress line: only those above 0. */
  progress(): { clashes?: number; cutAtConnack?: number } {
    const cut = this.cutCount;
    return { ...(this.count > 0 && { clashes: this.count }), ...(cut > 0 && { cutAtConnack: cut }) };
  }
}

/**
 * A run's clashes, fed by its collector's broker closes: excused while a fault is under way or
 * about an outage; the first node found is logged (the progress line counts the rest).
 */
export function watchClashes(
  collector: Collector,
  prefix: string,
  faults: { readonly inProgress: number },
  outages: BrokerOutages,
  run: { emit(event: "log", line: string, level: "error"): unknown },
): SessionClashes {
  const clashes: SessionClashes = new SessionClashes(
    (at) => faults.inProgress > 0 || outages.near(at, OUTAGE_MARGIN_MS),
    (node, _at, windowMs) => {
      if (clashes.count === 1) run.emit("log", clashMessage(prefix, node, windowMs), "error");
    },
    (node, _at, spanMs) => {
      if (clashes.cutCount === 1) run.emit("log", cutMessage(node, spanMs), "error");
    },
  );
  collector.onBrokerClose = (node, at, unanswered) => clashes.closed(node, at, unanswered);
  return clashes;
}

/** The line the run logs when the first node is found. */
function clashMessage(prefix: string, node: NodeId, windowMs: number): string {
  return `${node}: the broker closed its session ${CLASH_CLOSES} times in ${(windowMs / 1000).toFixed(1)} s while it stayed up: another client is connecting with its client id ${prefix}-${node} (a second fleet or a board with the same ids?), and each connection takes the other's over; the figures mix in its traffic (give this fleet a prefix of its own)`;
}

/** The line the run logs when the first node whose sessions the broker closes at once is found. */
export function cutMessage(node: NodeId, spanMs: number): string {
  return `${node}: the broker closed its session right after accepting it (CONNACK), before answering anything, ${CUT_CLOSES} times in ${(spanMs / 1000).toFixed(1)} s, never once after serving it, while it stayed up: the broker, or something between, ends the node's sessions itself (its rules or limits, a fault; see its log) — not another client with its id, whose takeover would close a session the broker had served; the node takes no part in the run`;
}
