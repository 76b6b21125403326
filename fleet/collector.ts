/**
 * Turns the nodes' event stream into the run's metrics: presses and applied states feed the checker
 * (a held press is timed from its interrupt), boots mark power-on for registration, disconnects go to
 * the timeline the fault analysis reads, and every node's own newest event is kept for the
 * divergence check. Events arrive from several worker threads in batches, so they are held in a
 * reorder window and handled in time order: a follower's update must not be seen before the press
 * that caused it. A run that keeps the presses and applies themselves (a shard, for the merge) gives
 * a PressLog: it sees them as the checker does, held presses timed from their interrupt.
 */

import { type ConnectFailure, countDrop, type DropCounts, type NodeEvent } from "../node/metrics.js";
import { assertNever, compareStamps, type NodeId, type Stamp } from "../protocol/index.js";
import { SyncChecker } from "../sim/checker.js";
import { Distribution } from "../sim/histogram.js";
import { NodeTimeline } from "../sim/recovery.js";
import { RegressionWatch } from "../sim/regressions.js";
import { followersReach, type Pairing } from "../sim/topology.js";
import { type OutsideFeed, type OutsideNodes, watchOutside } from "./outside-nodes.js";
import { LivePairing, pairingChangeLine } from "./pairing-changes.js";

/** Events are handled this long after they happen, in time order across workers (they flush every 50 ms). */
export const REORDER_WINDOW_MS = 500;
/** How many times the buffer's length the early events put in place may move before the drain sorts instead. */
const SPLICE_BUDGET = 4;

/** Receives, in time order, every press (stamp null: held and never published) and applied state. */
export interface PressLog {
  press(node: NodeId, stamp: Stamp | null, at: number): void;
  applied(node: NodeId, stamp: Stamp, at: number): void;
}

export class Collector {
  readonly checker: SyncChecker;
  readonly timeline = new NodeTimeline();
  readonly regressions = new RegressionWatch();
  readonly bootAt = new Map<NodeId, number>();
  readonly originated = new Map<NodeId, Stamp>();
  readonly synced = new Set<string>();
  readonly online = new Set<string>();
  /** Nodes that lost their connection and have not synced since (a fault, an outage, a reconnect). */
  readonly away = new Set<string>();
  /** The paper's latency: each node's own report, from its publish until it read the echo (ms). */
  readonly echo = new Distribution(1000, 600_000);
  /** Echoes that took longer than the lost limit (the paper's "lost message" by its own timing). */
  echoLate = 0;
  private readonly heldSince = new Map<NodeId, number>();
  /** Each node's last failed connection attempt, or its refusal once refused (why a node that never registered did not). */
  readonly lastConnectFailure = new Map<NodeId, ConnectFailure>();
  disconnects = 0;
  /** Packets over a node's PubSubClient buffer, drained and dropped, so far. */
  oversized = 0;
  /** Messages the nodes dropped so far, by reason (the live count of the report's `link.drops`). */
  readonly drops: DropCounts = {};
  /** Presses the nodes' button interrupts ignored (debounced: node/debounce.ts). */
  pressesIgnored = 0;
  /** When each of them was pressed (the run's clock): to tell those of the run's own stalls (fleet/stall-report.ts). */
  readonly ignoredAt: number[] = [];
  /** Hears each session the broker closed (not a timeout, not a power cut), in time order. */
  onBrokerClose: ((node: NodeId, at: number, unanswered: boolean) => void) | undefined;
  /** Hears each connection attempt, failed (with whether the broker closed it at once) or not. */
  onConnect: ((node: NodeId, at: number, failed?: { readonly closedAtOnce: boolean }) => void) | undefined;
  /**
   * The pairing at the nodes, when this collector follows it (a run's, made by `following`): each
   * node's change of sources changes the reach of the presses after it. Undefined: the reach given.
   */
  readonly live: LivePairing | undefined;
  /** The nodes on the broker outside the fleet judged with it (boards, stand-ins), when a twins service sees them. */
  outside: OutsideNodes | undefined;
  /** The newest stamp each node outside the fleet is known to hold, in the events' time order. */
  private readonly outsideHeld = new Map<NodeId, Stamp>();

  /** The newest stamp each node outside the fleet is known to hold (as far as the events handled say). */
  get outsideHolding(): ReadonlyMap<NodeId, Stamp> {
    return this.outsideHeld;
  }
  /** Hears the log line of each change of a node's sources, in time order (the first ones only). */
  onPairingLine: ((line: string) => void) | undefined;
  /** The pairing changed since the checker's reach was last made from it. */
  private reachStale = false;
  /**
   * Events not yet handled, in time order (equal times in arrival order) unless
   * `unordered`: an event earlier than the last is put in its place as it comes when that place is
   * not too costly — a virtual run's nodes emit at their CPU's time, a little past the clock, so
   * such events are frequent, and sorting the whole window on every drain cost more than handling
   * it. Past a budget of moves (another worker's batch from far back) they are appended, and the
   * drain sorts.
   */
  private buffer: NodeEvent[] = [];
  private unordered = false;
  /** Queued events moved by early ones put in their place since the last drain. */
  private moved = 0;

  constructor(
    reach: ReadonlyMap<NodeId, readonly NodeId[]>,
    private readonly lostAfterMs = 5000,
    private readonly log?: PressLog,
    pairing?: Pairing,
  ) {
    this.checker = new SyncChecker(reach, lostAfterMs);
    this.live = pairing === undefined ? undefined : new LivePairing(pairing);
  }

  /** A run's collector: its presses reach the followers of `pairing`, and of the pairing the nodes change it to. */
  static following(pairing: Pairing): Collector {
    return new Collector(followersReach(pairing), undefined, undefined, pairing);
  }

  /** The pairing at the nodes now (as far as the events handled say), or undefined when not followed. */
  get pairing(): Pairing | undefined {
    return this.live?.current;
  }

  /**
   * Queues events from a worker; they are handled by drain() once they leave the reorder window.
   * Regressions are judged now, in the order each node emitted its events.
   */
  push(events: readonly NodeEvent[]): void {
    for (const e of events) {
      this.queue(e);
      switch (e.type) {
        case "press":
        case "held-applied":
        case "applied":
        case "synced":
          if (e.stamp) this.regressions.holds(e.node, e.stamp, e.at);
          break;
        default:
          break;
      }
    }
  }

  /** Handles, in time order, every queued event at or before `cutoff` (all of them by default). */
  drain(cutoff = Number.POSITIVE_INFINITY): void {
    this.moved = 0;
    if (this.unordered) {
      // A stable sort: equal times stay in arrival order, as the in-place insertions keep them.
      this.buffer.sort((a, b) => a.at - b.at);
      this.unordered = false;
    }
    const buffer = this.buffer;
    let i = 0;
    while (i < buffer.length && (buffer[i] as NodeEvent).at <= cutoff) this.handle(buffer[i++] as NodeEvent);
    if (i === buffer.length) this.buffer = [];
    else if (i > 0) buffer.splice(0, i);
  }

  /** Puts `e` after every queued event at or before its time (see `buffer`). */
  private queue(e: NodeEvent): void {
    const buffer = this.buffer;
    const end = buffer.length;
    const last = buffer[end - 1];
    if (last === undefined || this.unordered || last.at <= e.at) {
      buffer.push(e);
      return;
    }
    // The first queued event later than `e` (the queued ones are in order, and the last is later).
    let lo = 0;
    let hi = end - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((buffer[mid] as NodeEvent).at > e.at) hi = mid;
      else lo = mid + 1;
    }
    // Moving up to a few times the buffer between drains costs less than sorting it.
    if (this.moved + (end - lo) <= SPLICE_BUDGET * end) {
      this.moved += end - lo;
      buffer.splice(lo, 0, e);
    } else {
      buffer.push(e);
      this.unordered = true;
    }
  }

  /**
   * The run's periodic step at `now`: handles what left the reorder window, moves pairs past the lost
   * limit to overdue, and — while no fault has begun (`faulted` false) — lets the checker stop
   * keeping records of what settled before now (it is outside every fault's window).
   */
  advance(now: number, windowMs: number, faulted: boolean): void {
    if (!faulted) this.checker.noFaultBefore(now);
    this.drain(now - windowMs);
    this.checker.sweep(now - windowMs);
  }

  /** Nodes holding a press they could not publish (offline when pressed): one press each when it goes. */
  get holding(): number {
    return this.heldSince.size;
  }

  /** When the earliest press a node still holds (not published yet) happened, or undefined. */
  oldestHeld(): number | undefined {
    let oldest: number | undefined;
    for (const at of this.heldSince.values()) if (oldest === undefined || at < oldest) oldest = at;
    return oldest;
  }

  /** At the end of the run: presses still held by a node that never synced again never left it. */
  finish(): void {
    this.drain();
    for (const [node, at] of this.heldSince) this.unpublished(node, at);
    this.heldSince.clear();
    const away = this.outside?.away();
    this.checker.finish(away && ((n) => away.has(n)));
  }

  handle(e: NodeEvent): void {
    const node = e.node;
    switch (e.type) {
      case "boot": {
        if (!this.bootAt.has(node)) this.bootAt.set(node, e.at);
        // A press held when the power went is gone with the RAM.
        const held = this.heldSince.get(node);
        if (held !== undefined) this.unpublished(node, held, true);
        this.heldSince.delete(node);
        this.checker.forget(node);
        this.synced.delete(node);
        break;
      }
      case "press":
        if (e.stamp && this.outside?.has(node) === true) this.outsideHolds(node, e.stamp, e.at, true);
        else if (e.stamp) this.press(node, e.stamp, e.at);
        else if (!this.heldSince.has(node)) this.heldSince.set(node, e.at);
        break;
      case "held-applied":
        this.press(node, e.stamp, this.heldSince.get(node) ?? e.at);
        this.heldSince.delete(node);
        break;
      case "applied":
        // A set, or the node's own retained report adopted on a sync: its own state, as a press is.
        if (e.via === "state" || e.via === "own-report") this.originate(node, e.stamp);
        if (this.outside?.has(node) === true) this.outsideHolds(node, e.stamp, e.at, false);
        // A follower applying a press of a node outside the fleet before the run heard the press.
        if (e.via === "report" && e.stamp.origin !== node && this.outside?.has(e.stamp.origin) === true)
          this.outsideHolds(e.stamp.origin, e.stamp, e.at, true);
        // The event is the checker's StampEvent as it is (it keeps none of it): no copy per event.
        this.checker.applied(e);
        this.log?.applied(node, e.stamp, e.at);
        break;
      case "synced":
        this.synced.add(node);
        this.online.add(node);
        this.away.delete(node);
        break;
      case "connected":
        this.onConnect?.(node, e.at);
        break;
      case "disconnected":
        this.disconnects++;
        this.synced.delete(node);
        this.online.delete(node);
        this.away.add(node);
        this.timeline.disconnected(node, e.at);
        if (e.reason === "closed") this.onBrokerClose?.(node, e.at, e.unanswered === true);
        break;
      case "echo": {
        const ms = e.at - e.publishedAt;
        this.echo.record(ms);
        if (ms > this.lostAfterMs) this.echoLate++;
        break;
      }
      case "connect-failed":
        // A refusal (bad credentials, a client id or rules refused) is what a node's later failures
        // follow from: its retries are what get its address banned, and a banned address is closed
        // without a CONNACK. It stays the node's cause.
        if (this.lastConnectFailure.get(node) !== "refused") this.lastConnectFailure.set(node, e.reason);
        this.onConnect?.(node, e.at, { closedAtOnce: e.closedAtOnce === true });
        break;
      case "drop":
        countDrop(this.drops, e.reason);
        break;
      case "oversized":
        this.oversized++;
        break;
      case "press-ignored":
        this.pressesIgnored++;
        this.ignoredAt.push(e.at);
        break;
      case "sources": {
        const change = this.live?.update(node, e.sources, e.at);
        if (change === undefined) break;
        this.reachStale = true;
        const line = pairingChangeLine(change, this.live?.changes.length ?? 0);
        if (line !== undefined) this.onPairingLine?.(line);
        break;
      }
      default:
        assertNever(e);
    }
  }

  /** Judges the nodes outside the fleet `twins` reports (a real-time run's: boards, stand-ins) with it. */
  judgeOutside(twins: OutsideFeed | undefined, ids: readonly NodeId[], now: () => number): void {
    this.outside = watchOutside(twins, ids, this, now);
  }

  /**
   * A node outside the fleet holds `stamp` at `at` (its report heard, or a follower applying its own
   * stamp: `pressed`). A stamp of its own newer than any it held is a press, timed from this first
   * sight: a simulated follower often applies a board's press before the run's twins service hears
   * the board's report, and the press then counted 0 ms at it, as superseded.
   */
  private outsideHolds(node: NodeId, stamp: Stamp, at: number, pressed: boolean): void {
    const held = this.outsideHeld.get(node);
    if (held !== undefined && compareStamps(stamp, held) <= 0) return;
    this.outsideHeld.set(node, stamp);
    if (pressed && stamp.origin === node) this.press(node, stamp, at);
  }

  /** A node outside the fleet follows `sources` as it is first seen (fleet/outside-nodes.ts). */
  include(node: NodeId, sources: readonly NodeId[]): void {
    if (this.live === undefined) return;
    this.live.include(node, sources);
    this.reachStale = true;
  }

  /** The checker's reach, made again from the nodes' pairing once it changed (at the next press). */
  private freshReach(): void {
    if (!this.reachStale || this.live === undefined) return;
    this.reachStale = false;
    this.checker.setReach(followersReach(this.live.current));
  }

  private press(node: NodeId, stamp: Stamp, at: number): void {
    this.freshReach();
    this.originate(node, stamp);
    this.checker.press({ node, stamp, at });
    this.log?.press(node, stamp, at);
  }

  /** A held press that never left its node (lost with its RAM, or still held at the end). */
  private unpublished(node: NodeId, at: number, withPower = false): void {
    this.freshReach();
    this.checker.unpublished(node, at, withPower);
    this.log?.press(node, null, at);
  }

  private originate(node: NodeId, stamp: Stamp): void {
    const prev = this.originated.get(node);
    if (!prev || compareStamps(stamp, prev) > 0) this.originated.set(node, stamp);
  }
}
