/**
 * Nodes whose sessions another client takes over: a second fleet or a board connected with the same
 * client ids makes the broker close each connection when the other connects (MQTT-3.1.4-2), over and
 * over, and the run's figures then mix the two. Read from the nodes' own disconnects: a node whose
 * session the broker closed CLASH_CLOSES times within CLASH_WINDOW_MS, while the broker stayed up
 * and no fault was under way, is taken as clashing. Closes excused by a fault or an outage (a broker
 * restarting closes every session) do not count.
 */
import { Bursts, type NodeId } from "../protocol/index.js";
import type { BrokerOutages } from "./broker-outages.js";
import type { Collector } from "./collector.js";

/** This many closes by the broker within the window make a clash; a board's reboot is one. */
export const CLASH_CLOSES = 3;
export const CLASH_WINDOW_MS = 30_000;
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

export class SessionClashes {
  /** Each node's unexcused closes: a burst of them is a clash, told once. */
  private readonly bursts = new Bursts<NodeId>(CLASH_CLOSES, CLASH_WINDOW_MS);
  /** Clashing nodes, in the order found, with when. */
  private readonly found = new Map<NodeId, number>();
  /** Each node's unexcused closes, all told. */
  private readonly closes = new Map<NodeId, number>();

  /**
   * `excused(at)`: whether a close at `at` has another cause (a fault under way, the broker lost
   * about then). `clash(node, at, closes)` hears of each node found, once.
   */
  constructor(
    private readonly excused: (at: number) => boolean,
    private readonly clash: (node: NodeId, at: number, windowMs: number) => void,
  ) {}

  /** The broker closed `node`'s session at `at` (called in time order, per node at least). */
  closed(node: NodeId, at: number): void {
    if (this.excused(at)) return;
    this.closes.set(node, (this.closes.get(node) ?? 0) + 1);
    const windowMs = this.bursts.hit(node, at);
    if (windowMs === undefined) return;
    this.found.set(node, at);
    this.clash(node, at, windowMs);
  }

  get count(): number {
    return this.found.size;
  }

  /** For the report; undefined when no node clashed (a report without clashes has no field). */
  report(originMs: number): SessionClashReport | undefined {
    if (this.found.size === 0) return undefined;
    const ids = [...this.found.keys()];
    return {
      nodes: ids.length,
      closes: ids.reduce((n, id) => n + (this.closes.get(id) ?? 0), 0),
      ids: ids.slice(0, IDS_NAMED),
      firstAtMs: Math.round((this.found.values().next().value as number) - originMs),
    };
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
  );
  collector.onBrokerClose = (node, at) => clashes.closed(node, at);
  return clashes;
}

/** The line the run logs when the first node is found. */
function clashMessage(prefix: string, node: NodeId, windowMs: number): string {
  return `${node}: the broker closed its session ${CLASH_CLOSES} times in ${(windowMs / 1000).toFixed(1)} s while it stayed up: another client is connecting with its client id ${prefix}-${node} (a second fleet or a board with the same ids?), and each connection takes the other's over; the figures mix in its traffic (give this fleet a prefix of its own)`;
}
