/**
 * The console's data source: the one interface a fleet (simulated, live via the twins service, or
 * the demo) implements so the console can show and drive it. The console reads snapshots from it on
 * its own frame timer; the source only says *that* something changed, never pushes per-message work
 * into the view.
 */
import type { NodeId, NodeKind } from "../protocol/index.js";
import type { ForgetOutcome, MinutePoint } from "../twins/index.js";

/**
 * A follower's sync status as the console shows it. `in-sync`: holds the newest state upstream of
 * it; `out-of-sync`: behind, or ahead with an event its sources never saw; `unknown`: not a
 * follower, or not reported yet.
 */
export type ConsoleSync = "in-sync" | "out-of-sync" | "unknown";

/** One node as the fleet view draws it: cheap to build for thousands of nodes per frame. */
export interface ConsoleNode {
  readonly id: NodeId;
  /** Unknown until the node registers (a live fleet learns it from `register`). */
  readonly kind: NodeKind | undefined;
  readonly on: boolean;
  readonly online: boolean;
  readonly sync: ConsoleSync;
  /**
   * The twin's version: increases on every change of what the twin shows (reported state, presence,
   * config, desired, pairing). Absent for a source without versions (the demo). A view can send only
   * the nodes whose version (or sync) moved since it last looked.
   */
  readonly version?: number;
  /**
   * When the view learned of the twin's last change, ms since the Unix epoch on the source's clock
   * (`Scheduler.wallNow()`): the view hears of a change in the same turn as the registry makes it.
   * Absent until the node changes while the view is open.
   */
  readonly changedAt?: number;
  /**
   * What is kept for the node while it is not online, carried out when it returns: a set (sent when
   * it registers again), a pairing (written for it, confirmed on its return), or both. Absent when
   * nothing waits, or the node is online (what is sent to it then is on its way).
   */
  readonly waits?: Waits;
  /**
   * Shown online only by the status a broker that restarted since kept, and not heard since
   * (twins/node-presence.ts): not `online`, said so rather than `offline`. Absent otherwise.
   */
  readonly unheard?: true;
}

/** What a node not online has waiting for it (ConsoleNode.waits). */
export type Waits = "set" | "pairing" | "set and pairing";

/** The link counters the detail pane shows (a subset of the link model's LinkStats). */
export interface ConsoleLinkStats {
  readonly retransmissions: number;
  readonly timeouts: number;
  readonly reconnects: number;
  /** Messages the node dropped but its own echoes (`stale`): bad or refused input; a sim's nodes only. */
  readonly dropped?: number;
}

/** Everything about one node the detail pane shows; asked for the selected node only. */
export interface NodeDetail {
  readonly node: ConsoleNode;
  /** Whom the node follows and who follows it. */
  readonly follows: readonly NodeId[];
  readonly followers: readonly NodeId[];
  /** e.g. `uno-w5100 fw 1.0.0`; absent when unknown. */
  readonly identity?: string;
  /** Modeled CPU utilization (simulated nodes only). */
  readonly cpuPct?: number;
  /** Modeled RAM in use, bytes (simulated nodes only). */
  readonly ramBytes?: number;
  readonly link?: ConsoleLinkStats;
  /** The cable is out: the node is powered but cut off from the network. */
  readonly cablePulled?: boolean;
  /** The last few messages the node sent or received, newest last. */
  readonly lastMessages?: readonly string[];
  /** What the twins hold of the node, where the source has twins. */
  readonly profile?: string;
  readonly firmware?: string;
  readonly presence?: "online" | "offline" | "unknown" | "unheard";
  /** The last message the node itself sent, ms since the fleet started (as `registeredAt`). */
  readonly lastSeen?: number;
  /** The same as a date (ISO 8601, UTC), by the source's clock. */
  readonly lastSeenAt?: string;
  /**
   * How long before this detail was made the node sent it, ms on the fleet's clock (never negative):
   * `lastSeen` counts from the fleet's start, which for a standalone twins service is its own, so a
   * node heard before the service started has a negative one.
   */
  readonly lastSeenAge?: number;
  /** When the node first registered, ms since the fleet started (where known). */
  readonly registeredAt?: number;
  /**
   * A set another twins service keeps for the node while it is away (twins/kept-sets.ts), where this
   * view's own holds none: the list and grid marked it, the detail said nothing of it.
   */
  readonly keptElsewhere?: { readonly on: boolean; readonly by: string };
  /** The desired pairing and whether a set or a pairing still waits for the node. */
  readonly desired?: {
    readonly sources: readonly NodeId[];
    readonly configVersion: number;
    readonly pending: boolean;
    /** The pairing (`sources`) waits for the node to confirm it; `pending` is true too. */
    readonly pairingPending?: boolean;
    /** A set not yet confirmed by the node (sent again when an offline node registers). */
    readonly pendingSet?: { readonly on: boolean; readonly counter: number };
  };
}

export interface ConvergenceSnapshot {
  /** Followers in sync / followers known; 1 when there are none. */
  readonly fraction: number;
  readonly inSync: number;
  readonly known: number;
  /**
   * Of the `known` followers, those online now, where the source knows presence. The fraction judges
   * an offline follower by its last report: with none online there is nothing current to judge, and a
   * view says so rather than the fraction (it read `in sync 100.0%` with every node offline).
   */
  readonly online?: number;
  /**
   * Of the `known` followers, those unheard now (shown online only by the status a broker that
   * restarted kept, not heard since): neither in `online` nor offline; absent when none is.
   */
  readonly unheard?: number;
  /**
   * The share is the one from before the twins service's own re-read of the broker's state, under
   * way (its view half refreshed is not the fleet's: twins/reread-hold.ts); absent otherwise.
   */
  readonly held?: true;
  /**
   * Bounded history, oldest first; `t` in ms on the source's clock; `known`, where the source has it,
   * the followers known then (a point with none is not drawn: its fraction is 1 by convention);
   * `online`, where the source knows presence, those of them online then (with none, the fraction is
   * the last-heard one: the page's chart draws a gap marked `no follower online` there, or
   * `followers unheard` where `unheard`, those not heard since a broker restart then, is above 0).
   */
  readonly history: readonly {
    readonly t: number;
    readonly fraction: number;
    readonly known?: number;
    readonly online?: number;
    readonly unheard?: number;
    /** A restart's marker: the twins service was not running from `t` until then (nothing measured). */
    readonly stoppedUntil?: number;
    /** Measured during the twins service's own re-read of the broker's state: the share from before it. */
    readonly held?: true;
  }[];
  /**
   * A live fleet's broker outages of late, on the source's clock (`to` absent: under way): nothing
   * was heard then, so the history's last point before one holds on through it unmeasured; a chart
   * draws no share there (the console's band, `broker away` on its time axis).
   */
  readonly away?: readonly { readonly from: number; readonly to?: number }[];
}

export interface LatencySnapshot {
  readonly count: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Fixed-width buckets: `buckets[i]` counts latencies in [i·bucketMs, (i+1)·bucketMs). */
  readonly bucketMs: number;
  readonly buckets: readonly number[];
  /** Latencies past the last bucket. */
  readonly overflow: number;
}

/** Which actions this source can perform: a live fleet of boards has no button the console can press. */
export interface Capabilities {
  readonly setLoss: boolean;
  readonly press: boolean;
  readonly set: boolean;
  readonly pair: boolean;
  readonly unpair: boolean;
  readonly powerCycle: boolean;
  readonly pullCable: boolean;
  readonly query: boolean;
  /** Kill the broker (no goodbye) and start it again: only a fleet that runs its own broker. */
  readonly restartBroker: boolean;
  /** Cut the power of every node at once. */
  readonly powerOutage: boolean;
  /** Cut a share of the nodes off the network for a while (a fleet run's partition fault). */
  readonly partition?: boolean;
  /** Pause virtual time and change its speed (a fleet run on virtual time). */
  readonly pace?: boolean;
}

/** A virtual-time fleet's pace: virtual seconds per wall second (or as fast as it goes), paused or not. */
export interface ConsolePace {
  readonly speed: number | "max";
  readonly paused: boolean;
}

export type Capability = keyof Capabilities;

export type LogLevel = "info" | "warn" | "error";

/** A fault in progress (a broker restart, a power outage, …), for the header's indicator. */
export interface ConsoleFault {
  /** e.g. `broker-restart` or `power-outage 24 nodes`. */
  readonly what: string;
  /** When it started, ms on the source's clock. */
  readonly since: number;
}

export interface LogLine {
  /** ms on the source's clock. */
  readonly t: number;
  readonly level: LogLevel;
  readonly text: string;
}

/** The typed event map: listeners must stay cheap (set a flag, push to a bounded buffer). */
export interface ConsoleEvents {
  /** Something a snapshot would show has changed; the console redraws on its next frame. */
  changed: [];
  /** A line for the event log. */
  log: [line: LogLine];
  /**
   * One node's summary changed (its version, state, presence, kind or sync): for a view that sends
   * only what changed. Optional: a source that emits it also offers `node(id)`.
   */
  node: [id: NodeId];
}

export type Listener<K extends keyof ConsoleEvents> = (...args: ConsoleEvents[K]) => void;

export interface ConsoleSource {
  /** Shown in the header, e.g. `sim 1000 nodes, seed twinfleet` or `mqtt://host:1883`. */
  readonly title: string;
  readonly capabilities: Capabilities;
  /** The source's clock (ms); the convergence chart's "now". */
  now(): number;
  /** Every node, in a stable order (the fleet view pages through it). */
  nodes(): readonly ConsoleNode[];
  detail(id: NodeId): NodeDetail | undefined;
  /** One node's summary, in O(1); offered by a source that emits `node` events. Optional. */
  node?(id: NodeId): ConsoleNode | undefined;
  /**
   * Brings the nodes up to date with what the source put off until it is read, emitting their
   * `node` events now: a reader that goes by those events (web/events.ts) calls it before it looks.
   * Optional: a source that puts nothing off has none.
   */
  settle?(): void;
  /**
   * The node the user is looking at (undefined when none): a source that has to fetch detail from
   * elsewhere (a worker) fetches only this one and emits `changed` when it arrives. Optional.
   */
  focus?(id: NodeId | undefined): void;
  convergence(): ConvergenceSnapshot;
  /**
   * The convergence history's long tier, oldest first, the minute under way last: each minute's
   * lowest share, the fewest followers online, the broker away or the twins service not running in
   * it (twins/minute-tier.ts). Absent for a source with no twins service keeping one (the demo).
   */
  minutes?(): readonly MinutePoint[];
  latency(): LatencySnapshot;
  /** The packet loss applied to the fleet's links, percent; undefined when the source cannot know. */
  lossPct(): number | undefined;
  /** The faults in progress now, oldest first (a handful at most); empty for a fleet without faults. */
  faults(): readonly ConsoleFault[];
  /**
   * Why what is shown is not current (a live fleet whose broker is not reached yet, silent or
   * lost), for `/healthz`; undefined while it is. Absent for a fleet that is always current.
   */
  health?(): string | undefined;
  /** What is current but not kept (the convergence history unwritten), for `/healthz`'s 200: none, empty. */
  degraded?(): readonly string[];
  /**
   * Resolves once the changes made so far are stored, to undefined; or, when their save failed (a
   * full or read-only disk), to why (`it cannot be saved to DIR/twins.json (ENOSPC …)`): the command
   * is carried out in memory only, and a restart loses it. Absent for a fleet that stores nothing.
   */
  written?(): Promise<string | undefined>;

  setLoss(pct: number): Promise<void>;
  press(id: NodeId): Promise<void>;
  /**
   * Sets the node on or off; resolves to what will happen later when the set could not reach the
   * node now (it is offline: the set is kept and sent when it registers again), else undefined.
   */
  set(id: NodeId, on: boolean): Promise<CommandDeferred | undefined>;
  /** Resolves to what will happen when the fleet took the pairing but could not carry it out yet. */
  pair(follower: NodeId, source: NodeId): Promise<CommandDeferred | undefined>;
  unpair(follower: NodeId, source: NodeId): Promise<CommandDeferred | undefined>;
  /**
   * Retires a node for good (a live fleet's twins service: twins/retire.ts): its followers unpaired,
   * its retained messages cleared, its twin forgotten. `force` while it is shown online (refused
   * otherwise, CommandRefused). Absent where a fleet cannot forget a node.
   */
  forget?(id: NodeId, force: boolean): Promise<ForgetDone>;
  powerCycle(id: NodeId): Promise<void>;
  pullCable(id: NodeId, pulled: boolean): Promise<void>;
  query(): Promise<void>;
  /** Kills the broker and starts it again `downS` seconds later; resolves once the fault is under way. */
  restartBroker(downS: number): Promise<void>;
  /** Powers every node off, and on again `offS` seconds later; resolves once the fault is under way. */
  powerOutage(offS: number): Promise<void>;
  /**
   * Cuts `fraction` (0..1] of the nodes off the network, back after `forS` seconds; resolves once the
   * fault is under way. Only where `capabilities.partition`.
   */
  partition?(fraction: number, forS: number): Promise<void>;
  /** The fleet's pace, where `capabilities.pace` (a run on virtual time). */
  pace?(): ConsolePace;
  /** Sets the pace; where `capabilities.pace`. */
  setPace?(pace: ConsolePace): void;

  /**
   * The user asked to quit (`q`, Ctrl-C, SIGINT). A source with work to finish first (a simulated
   * run's settle) starts it and returns true: the console stays open, shows `ending()` in its footer,
   * and closes on a second `q` / Ctrl-C or when its owner closes it. Without this method, or when it
   * returns false, the console closes at once. Optional.
   */
  quit?(): boolean;
  /** While the source finishes after quit(): one line saying what it waits for and how long. */
  ending?(): string | undefined;

  /** Subscribes; returns the function that unsubscribes. */
  on<K extends keyof ConsoleEvents>(event: K, listener: Listener<K>): () => void;
}

/** A source with no actions: the base for read-only fleets. */
export const NO_CAPABILITIES: Capabilities = {
  setLoss: false,
  press: false,
  set: false,
  pair: false,
  unpair: false,
  powerCycle: false,
  pullCable: false,
  query: false,
  restartBroker: false,
  powerOutage: false,
};

/** What an action a source does not support rejects with; the console shows it in the log. */
export class UnsupportedAction extends Error {
  override readonly name = "UnsupportedAction";
  constructor(readonly action: Capability) {
    super(`${action} is not available for this fleet`);
  }
}

/** An action a source cannot carry out: it always rejects with UnsupportedAction. */
export function unsupported(action: Capability): () => Promise<never> {
  return () => Promise.reject(new UnsupportedAction(action));
}

/**
 * A command the fleet refuses as it stands (an unpair of a pairing that is not there, a ninth source,
 * a press on a node the run does not simulate): the message says why. A view shows it to the user as
 * their mistake (the web API answers 409), not as a failure of the fleet.
 */
export class CommandRefused extends Error {
  override readonly name = "CommandRefused";
}

/**
 * A command the fleet cannot take now, through no fault of the user's (a live fleet's broker not
 * reachable): the message says why and whether it was sent. A view shows it as a failure to try
 * again later (the web API answers 503), and nothing of it is carried out later behind the user's back.
 */
export class CommandUnavailable extends Error {
  override readonly name = "CommandUnavailable";
}

/** What retiring a node did: whom it unpaired, what it cleared, and what is left for the broker's return. */
export type ForgetDone = ForgetOutcome;

/**
 * A command the fleet took but could not carry out yet (a live fleet's pairing, stored while the
 * broker is away and sent once it is back): `deferred` says what will happen. The web API answers 202.
 */
export interface CommandDeferred {
  readonly deferred: string;
}
