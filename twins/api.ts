/**
 * The twins service's public interface (implemented by twins/service.ts), the error its commands
 * throw for bad caller input, and the one they throw when the broker cannot take them now.
 */
import type { EventEmitter } from "node:events";
import { NodeId, type Prefix, ProtocolError } from "../protocol/index.js";
import type { AwaySpan } from "./broker-spans.js";
import type { BrokerWaitStatus } from "./broker-wait.js";
import type { ConvergenceReport } from "./convergence.js";
import type { FleetUnseen } from "./empty-fleet.js";
import type { HistoryUnwritten } from "./history-keeper.js";
import type { KeptSet } from "./kept-sets.js";
import type { MinutePoint } from "./minute-tier.js";
import type { PrefixNodes } from "./prefix-look.js";
import type { TwinsServiceInfo } from "./presence.js";
import type { MarkerFate } from "./replay-marker.js";
import type { ForgetOutcome } from "./retire.js";
import type { BadInputReason, Presence, SeriesPoint, Twin, TwinsEvents } from "./types.js";

/** Bad caller input (a malformed id, a self-follow): the message says what is wrong. */
export class TwinsCommandError extends Error {
  override readonly name = "TwinsCommandError";
}

/** How the broker was away when a command could not go: not reached yet, its connection lost, or silent. */
export type BrokerAwayHow = "unreached" | "lost" | "silent";

/**
 * A command the broker cannot take now (twins/broker-away.ts): refused at once while the connection
 * is not up (`sent` false: nothing left the service, nor will it later), or given up when the
 * connection dropped, the broker fell silent or did not acknowledge it in time (`sent` true: it may
 * or may not have reached the broker; the connection does not send it again). Not the caller's
 * mistake: the same command may be given again once the broker is back.
 */
export class BrokerUnavailableError extends Error {
  override readonly name = "BrokerUnavailableError";
  constructor(
    message: string,
    /** The broker's URL, without credentials. */
    readonly broker: string,
    /** Why: the broker away (`how`), or the command sent but not acknowledged (`unacknowledged`). */
    readonly away: BrokerAwayHow | "unacknowledged",
    readonly sent: boolean,
    /** What is wrong with the broker, without what became of the command (the message's start). */
    readonly reason: string,
  ) {
    super(message);
  }
}

/**
 * What a pair or unpair did. `sent`: the commands (or an offline node's retained config) went to the
 * broker now; the node confirms later. Not sent: the broker is away (`why`: the broker at … is not
 * reachable (…)); the desire is stored all the same, and sent when the broker is back and the node
 * registers (docs/twins.md, "While the broker is away").
 */
/**
 * What a pairing command did. `already`: the desire held the pairing before the command (a `pair` of
 * a node that already follows the source, or whose pairing with it is pending): for a node not
 * online nothing was written, its retained config stays as it was.
 */
export type PairingOutcome =
  | { readonly sent: true; readonly already?: true }
  | { readonly sent: false; readonly why: string };

/** A caller's node id, checked: a bad one is a TwinsCommandError naming `what` it was for. */
export function nodeId(s: string, what: string): NodeId {
  try {
    return NodeId(s);
  } catch (e) {
    if (e instanceof ProtocolError) throw new TwinsCommandError(`${what}: ${e.message}`);
    throw e;
  }
}

export interface Twins extends EventEmitter<TwinsEvents> {
  readonly prefix: Prefix;
  /** Its MQTT client id; its presence is `<prefix>/control/<clientId>` unless passive. */
  readonly clientId: string;
  /** Only watches: set, pair, unpair and query throw, nothing is published or stored. */
  readonly passive: boolean;
  /**
   * The set a present twins service keeps for `id` while it is away, as the broker tells it
   * (twins/kept-sets.ts): this one's own or another's (a `monitor` beside a standalone service).
   */
  keptSet?(id: string): KeptSet | undefined;
  /**
   * Settles once the broker is first reached: already when `startTwins` resolved, unless it was
   * given `waitForBroker`; then when the service connects, or rejected with the `BrokerConnectError`
   * that retrying cannot fix (the service then tries no more; close it).
   */
  readonly reached: Promise<void>;
  /** While a service started with `waitForBroker` has not reached its broker: since when, and why. */
  readonly waiting: BrokerWaitStatus | undefined;
  /**
   * The broker's restart told at the first connection (since the service before this one on its data
   * directory read it: twins/broker-restart.ts), as its `broker-restarted` event said it: told while
   * `startTwins` connects, before a view opened after it listens.
   */
  readonly restartAtStart?: { readonly unheard: readonly NodeId[]; readonly how: string } | undefined;
  /** While the connection is lost, once a reconnect has failed: why (twins/reconnect-failures.ts). */
  readonly lostCause?: string | undefined;
  /** Since when the desired state could not be saved (a full disk), on the service's clock; undefined while saved. */
  readonly unsavedSince: number | undefined;
  /**
   * While the desired state cannot be saved: where and why (`data directory DIR cannot be written
   * (ENOSPC: …)`), for `/healthz`; undefined while saved.
   */
  readonly unsavedCause?: string | undefined;
  /**
   * While a save (or the saver's test write: `what`, `where` its directory) has run `SAVE_STALLED_MS`
   * without ending (a frozen or hung disk): how long, and the file it writes; a stop waits for it
   * (twins/stop-wait.ts).
   */
  readonly stalledSave?:
    | { readonly forMs: number; readonly where: string; readonly what?: "test write" }
    | undefined;
  /**
   * While a write of the convergence history kept in the data directory has run `SAVE_STALLED_MS`
   * without ending: how long, and its file. A stop waits for it too (twins/stop-wait.ts).
   */
  readonly stalledHistory?: { readonly forMs: number; readonly where: string } | undefined;
  /**
   * While the convergence history kept in the data directory cannot be written: since when, its
   * file and why (twins/history-keeper.ts); undefined while it is written, or not kept.
   */
  readonly historyUnwritten?: () => HistoryUnwritten | undefined;
  /** No node seen at all since connecting (with `warnEmptyFleet`): since the warning, and why (twins/empty-fleet.ts). */
  readonly fleetUnseen: FleetUnseen | undefined;
  /**
   * The nodes the broker holds under other prefixes than this service's, most first, from a 1 s look
   * at their retained statuses (twins/prefix-look.ts); undefined when the broker refuses the look or
   * is not connected.
   */
  otherPrefixes(): Promise<PrefixNodes[] | undefined>;
  /**
   * Resolves once the broker's replay of the retained state is over, true, or after `maxMs`, false
   * (twins/replay-marker.ts); a service over a URL only.
   */
  replayOver?(maxMs: number): Promise<boolean>;
  /**
   * What became of replayOver's markers not back (ReplayMarker.fate): dropped when a marker published
   * after them came back first (a full client queue), else not back after `maxMs` more (slow).
   */
  replayFate?(maxMs: number): Promise<MarkerFate>;
  /** The reads of the retained state (start, reconnects) whose replay the broker cut (twins/replay-reread.ts); over a URL only. */
  replaysCut?(): number;
  /** Whether the replay marker of the last (re)connect's wait for its replay's end is back (twins/replay-end.ts); over a URL only. */
  replayMarkerBack?(): boolean;
  /** The other twins services holding a presence on the fleet now, sorted by client id (watched while it runs). */
  readonly otherServices: readonly TwinsServiceInfo[];
  list(): Twin[];
  /** How many twins it knows, no view of any made (list() makes one of each: 20,000 at a time). */
  count(): number;
  get(id: string): Twin | undefined;
  /**
   * A node's presence, no view of its twin made (`get` copies what it follows and lists its
   * followers): what a view asks of every follower when it counts those online.
   */
  presenceOf(id: NodeId): Presence | undefined;
  /**
   * Sets a node's state with `S1 v c`, c the highest counter seen; resolves to c. While the broker
   * is away it throws BrokerUnavailableError and nothing is sent, then or later.
   */
  set(id: string, on: boolean): Promise<number>;
  /**
   * `follower` follows `source` from now on, across node reboots and twins restarts; while the broker
   * is away the desire is stored and sent once it is back (`{ sent: false }`).
   */
  pair(follower: string, source: string): Promise<PairingOutcome>;
  unpair(follower: string, source: string): Promise<PairingOutcome>;
  /**
   * Retires a node for good (twins/retire.ts): its followers unpaired, its retained status, config
   * and report cleared, its twin forgotten, the other control servers told. UnknownNodeError for a
   * node not known; TwinsCommandError for an online one unless `force`; BrokerUnavailableError (nothing
   * changed) while the broker is away.
   */
  forget(id: string, opts?: { force?: boolean }): Promise<ForgetOutcome>;
  /** Publishes `Q1`: every live node answers with its register and report. BrokerUnavailableError as set. */
  query(): Promise<void>;
  convergence(): ConvergenceReport;
  /** The in-sync fraction over time, oldest first (bounded). */
  history(): SeriesPoint[];
  /** The long tier: each minute's lowest share, for 48 h, oldest first (twins/minute-tier.ts). */
  minutes(): MinutePoint[];
  /**
   * The broker's last outages, oldest first (`to` absent: under way), those before a restart from the
   * history kept with `--data` (twins/broker-spans.ts): the charts' `broker away` band. A fleet run's
   * host of restarting services (fleet/twins-host.ts) has none: its view keeps them across restarts.
   */
  away?(): AwaySpan[];
  badInput(): { readonly total: number; readonly byReason: Record<BadInputReason, number> };
  /** Bad inputs counted against one node. */
  badInputOf(id: string): number;
  /** Resolves once the stored state is written. */
  flush(): Promise<void>;
  /**
   * Resolves once every change made before the call is stored (its save ended), not waiting for
   * later ones as flush() does: a command is answered only then (view/twins-commands.ts). To
   * undefined once written; to why not when that save failed (a full disk: the change lives in
   * memory only, and a restart loses it).
   */
  readonly written?: () => Promise<string | undefined>;
  /** Clears its presence, disconnects cleanly, writes the stored state and closes the store. */
  close(): Promise<void>;
  /**
   * What a kill -9 of the process does: the connection is dropped without DISCONNECT (the broker
   * publishes the will, which clears the presence), no further save starts (what the store has
   * fully written stays), nothing is flushed and the store is not closed.
   */
  kill(): Promise<void>;
}
