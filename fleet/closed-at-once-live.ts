/**
 * Nodes the broker closes at once once the run is under way (a broker that reaches its open-files
 * or connection limit as the fleet grows, one that bans the nodes' address): told while it happens,
 * once, with how many nodes and why, not one line a node. Once every node it told of has got in
 * (or stopped being closed so) and none has been closed at once for CLEAR_MS, a line says it has
 * cleared, and a later spell (a broker restarted into its open-files limit again) is told again:
 * before, it was told once a run, and the second spell said nothing. Before, a run whose broker filled up after
 * its start said so only in its report (`FAIL registration … closes new connections at once`); its
 * progress lines read `registered 103/150` and nothing else. A failure while a fault is under way or
 * about a broker outage is the fault's or the outage's, and does not count, an outage noticed only
 * after the closes came in too.
 */
import { after, type Scheduler, type Timer } from "../node/scheduler.js";
import type { NodeId } from "../protocol/index.js";
import type { BrokerOutages } from "./broker-outages.js";
import type { Collector } from "./collector.js";
import { OUTAGE_MARGIN_MS } from "./session-clashes.js";

/** How long after the first node closed at once the nodes still failing so are counted and told. */
export const GATHER_MS = 5000;
/** How long no node may be failing so, after a spell was told, before the spell is told over. */
export const CLEAR_MS = 5000;

export class ClosedAtOnceLive {
  /** The nodes whose last attempt the broker closed at once, not connected since, and when. */
  private readonly failing = new Map<NodeId, number>();
  private timer: Timer | undefined;
  /** A spell told and not yet over: no line more until it is. */
  private told = false;
  /** The nodes of the spell told that have connected since. */
  private readonly gotIn = new Set<NodeId>();
  private clearing: Timer | undefined;

  constructor(
    private readonly sched: Scheduler,
    private readonly excused: (at: number) => boolean,
    private readonly tell: (line: string, level: "error" | "info") => void,
  ) {}

  /** `node` tried to connect at `at`: connected (no `failed`), or failed, closed at once or not. */
  attempt(node: NodeId, at: number, failed?: { readonly closedAtOnce: boolean }): void {
    if (failed?.closedAtOnce !== true || this.excused(at)) {
      if (this.failing.delete(node) && this.told && failed === undefined) this.gotIn.add(node);
      if (this.told && this.failing.size === 0 && this.clearing === undefined)
        this.clearing = after(this.sched, CLEAR_MS, () => this.cleared());
      return;
    }
    this.failing.set(node, at);
    this.clearing?.cancel(); // the spell told goes on
    this.clearing = undefined;
    if (this.told || this.timer !== undefined) return;
    this.timer = after(this.sched, GATHER_MS, () => {
      this.timer = undefined;
      // An outage noticed after the closes (the twins' connection dropped a moment after the
      // nodes', by a broker killed as they connected) explains them: not the broker's limit.
      for (const [n, when] of this.failing) if (this.excused(when)) this.failing.delete(n);
      if (this.failing.size === 0) return;
      this.told = true;
      this.gotIn.clear();
      this.tell(closedAtOnceLine(this.failing.size), "error");
    });
  }

  /** No node closed at once for CLEAR_MS after a spell was told: it is over, and the next is told. */
  private cleared(): void {
    this.clearing = undefined;
    this.told = false;
    this.tell(closedAtOnceClearedLine(this.gotIn.size), "info");
    this.gotIn.clear();
  }

  /** Told nothing more (its run over): a Timer, as a run's other timers are cancelled. */
  cancel(): void {
    this.timer?.cancel();
    this.clearing?.cancel();
  }
}

/** The line told: how many nodes, and why. */
export function closedAtOnceLine(nodes: number): string {
  return `${nodes} node${nodes === 1 ? "" : "s"} cannot connect: the broker closes their connections at once, before its CONNACK (a broker at its open-files limit, ulimit -n, or its connection limit closes every new connection so, as does one that has banned their address); they keep trying, and the report names those that never registered`;
}

/** The line told once a spell is over: `connected` of its nodes got in since it was told. */
export function closedAtOnceClearedLine(connected: number): string {
  return `the broker takes the nodes' connections again: none closed at once for ${CLEAR_MS / 1000} s, ${connected} of the nodes it closed so connected since (a new spell of closes is told again)`;
}

/** A run's watch, fed by its collector's attempts; its spell logged as an error, its end as info. */
export function watchClosedAtOnce(
  collector: Collector,
  sched: Scheduler,
  faults: { readonly inProgress: number },
  outages: BrokerOutages,
  run: {
    emit(event: "log", line: string, level: "error" | "info"): unknown;
    readonly done?: Promise<unknown>;
  },
): ClosedAtOnceLive {
  const live = new ClosedAtOnceLive(
    sched,
    (at) => faults.inProgress > 0 || outages.near(at, OUTAGE_MARGIN_MS),
    (line, level) => run.emit("log", line, level),
  );
  collector.onConnect = (node, at, failed) => live.attempt(node, at, failed);
  // Nothing told once the run is over (its report says it); a shard, with no `done`, cancels it with its timers.
  run.done?.then(
    () => live.cancel(),
    () => live.cancel(),
  );
  return live;
}
