/**
 * The twins service's public shapes: a twin as callers see it, the bad-input reasons it counts and
 * the typed event map the console and the fleet runner listen to.
 */

import type { Stall } from "../node/stall-watch.js";
import type { DropReason, NodeId, NodeKind, Stamp } from "../protocol/index.js";
import { assertNever } from "../protocol/index.js";
import type { BrokerLoss } from "./broker-watch.js";
import type { ConvergenceReport } from "./convergence.js";
import type { TwinsServiceInfo } from "./presence.js";

/**
 * `unheard`: shown online only by the status a broker that restarted since kept (its store keeps a
 * node's retained `T1 1`, not the node's session), and the node has sent nothing since the restart:
 * not counted online until it is heard (online) or its will arrives (offline). twins/node-presence.ts.
 */
export type Presence = "online" | "offline" | "unknown" | "unheard";

export interface ReportedState {
  readonly on: boolean;
  readonly stamp: Stamp;
}

export interface ReportedConfig {
  readonly version: number;
  readonly sources: readonly NodeId[];
}

export interface DesiredState {
  readonly sources: readonly NodeId[];
  readonly configVersion: number;
  /** A set the node has not acted on yet; re-sent when it next registers. */
  readonly pendingSet?: { readonly on: boolean; readonly counter: number };
}

export interface Twin {
  readonly id: NodeId;
  /** From the node's register: `real` (a board), `sim` (a simulated node), `host` (firmware core on a PC). */
  readonly kind?: NodeKind;
  readonly profile?: string;
  readonly firmware?: string;
  readonly presence: Presence;
  /** Clock time of the last message the node itself sent (its will does not count). */
  readonly lastSeen?: number;
  /** The node's retained report: its state and the stamp that versions it. */
  readonly reported?: ReportedState;
  /** The node's retained config, as the broker holds it (the node's own, or a control server's write). */
  readonly config?: ReportedConfig;
  readonly desired: DesiredState;
  /**
   * `confirmed` once the node itself has shown (a config it published while online) that it follows
   * exactly the desired sources; `pending` from a change of the desire (a pair or unpair, or a
   * pairing another control tool wrote while the node was offline) until then.
   */
  readonly pairing: PairingStatus;
  /**
   * Whom the node follows (its own last config, else the one the broker holds) and who follows it
   * (the same for the other nodes).
   */
  readonly follows: readonly NodeId[];
  readonly followers: readonly NodeId[];
  /** The pairing is confirmed: `pairing === "confirmed"`. */
  readonly pairingInSync: boolean;
  /**
   * Increases on every change of what this view shows (reported state, presence, identity, config,
   * desired, pairing, followers); a client holding a version can tell a stale copy (ETag/If-Match).
   * Counted from 0 by this registry: not kept across restarts.
   */
  readonly version: number;
  /** When the node first registered since the service started, on the service's clock. */
  readonly registeredAt?: number;
}

export type PairingStatus = "confirmed" | "pending";

/** Bad input from the wire. The first five are the protocol's own decode reasons. */
export const BAD_INPUT_REASONS = [
  "bad-topic",
  "bad-id",
  "bad-payload",
  "wrong-version",
  "too-long",
  /** A well-formed message of a kind a node never sends (a command seen on a node topic). */
  "unexpected-kind",
  /** A report older than the one the twin holds: dropped, the newer state stays. */
  "stale-report",
  /** A config with a lower version than the one the twin holds: dropped. */
  "stale-config",
  /** A report whose stamp origin neither the node nor anything upstream of it can have produced. */
  "spoofed-origin",
  /** A register with another identity (kind, profile, firmware) while the node is online. */
  "identity-conflict",
  /**
   * A message naming a node the service does not know while it already tracks its most (`maxNodes`):
   * dropped, and no twin made. Bounds what a client making up node ids can make the service hold.
   */
  "too-many-nodes",
  /**
   * A report whose counter no fleet's own events reach (near the 32-bit maximum, or a live jump of
   * millions): shown, but not carried into set commands; a config version near the maximum
   * (set-counter.ts).
   */
  "implausible-counter",
] as const;
export type BadInputReason = (typeof BAD_INPUT_REASONS)[number];

/** Every protocol drop reason a decoder can raise maps onto a bad-input reason. */
export function badInputOfDrop(reason: DropReason): BadInputReason {
  switch (reason) {
    case "bad-topic":
    case "bad-id":
    case "bad-payload":
    case "wrong-version":
    case "too-long":
      return reason;
    case "stale":
      return "stale-report";
    case "implausible-counter":
      return "implausible-counter";
    case "self-follow":
    case "follows-full":
    case "not-following":
      return "bad-payload";
    default:
      return assertNever(reason);
  }
}

export interface BadInput {
  readonly reason: BadInputReason;
  /** The node the message names, when the topic names a valid one. */
  readonly node?: NodeId;
  readonly topic: string;
  readonly detail: string;
}

/** What changed of a twin; `followers`: a node came to follow it or left (its version moved with it). */
export type TwinChange = "report" | "config" | "register" | "presence" | "desired" | "followers";

export interface SeriesPoint {
  readonly t: number;
  readonly fraction: number;
  readonly inSync: number;
  readonly known: number;
  /**
   * Of the `known` followers, those online at the point: with none, the fraction judges only
   * last-heard reports (a fleet stopped, a site's power cut), and a chart shows no share there.
   */
  readonly online?: number;
  /**
   * Of the `known` followers, those unheard at the point (shown online only by the status a broker
   * that restarted kept, not heard since): neither online nor offline; absent when none was.
   */
  readonly unheard?: number;
  /**
   * A restart's marker: the twins service was not running from `t` until this time (same clock),
   * so nothing was measured; the share is the last one measured before. Only in a history kept in a
   * data directory (twins/history-keeper.ts); a chart draws a gap there, not a line.
   */
  readonly stoppedUntil?: number;
  /**
   * Measured during the service's own re-read of the broker's state (a subscription's replay, at a
   * start or after a reconnect): the share is the one from before it, held (its view half refreshed
   * is not the fleet's); `online` and `unheard` are as measured. Absent outside one
   * (twins/reread-hold.ts).
   */
  readonly held?: true;
}

export interface TwinsEvents {
  /**
   * A register arrived; `first` for a node the service never knew: its first register since the
   * service started, and a node its store did not keep either (a restarted service knows its fleet).
   * `again`: the node was online and had registered since it came online, and its kind, profile and
   * firmware are unchanged — its answer to a query (any tool's), which tells nothing new.
   */
  "twin-registered": [twin: Twin, first: boolean, again: boolean];
  /**
   * What the twin shows changed. `replayed`: a state that stood when the service subscribed (at its
   * start, or again after a reconnect), news to the service but not a change made then — a report or
   * config the broker delivered from its retained copy, or a node's first report since the
   * subscription (its answer to the service's query, which can overtake the broker's replay). Absent
   * or false for everything else.
   */
  "twin-updated": [twin: Twin, change: TwinChange, replayed?: boolean];
  /**
   * A report or config of `node` that stood when the service subscribed (as `replayed` above), each
   * one the broker handed over, whether or not it differs from what the twin held: `twin-updated`
   * tells only those that do, and after a broker restart that is few or none.
   */
  "state-replayed": [node: NodeId, change: "report" | "config"];
  "twin-online": [twin: Twin];
  "twin-offline": [twin: Twin];
  /**
   * The broker restarted since the service last connected (twins/broker-restart.ts): `unheard`, the
   * nodes it showed online that have sent nothing since, now `unheard` until heard or their will comes.
   * `before`: told at the first connection, since the service before this one on its data directory
   * read it (its statuses replayed after are unheard until heard, as they come).
   */
  "broker-restarted": [unheard: readonly NodeId[], how: string, before: boolean];
  /** A member of the broker's Redis cluster was lost (twins/member-loss.ts): `unheard`, its nodes that were online. */
  "member-lost": [member: string, unheard: readonly NodeId[]];
  /** The twin went offline 3 times within 30 s (twins/flapping.ts): `withinMs` is how long they took. */
  "twin-flapping": [twin: Twin, withinMs: number];
  /**
   * The twin was forgotten: to make room for a node not known at `maxNodes` (`room`,
   * twins/forget.ts), or the node retired by an operator (`retired`, twins/retire.ts).
   */
  "twin-forgotten": [node: NodeId, why: "room" | "retired"];
  /** The node was retired by `forgetAfterMs`, silent for `silentMs` while watched (twins/forget-after.ts). */
  "twin-silent-forgotten": [node: NodeId, silentMs: number];
  /**
   * A pairing this service desired was replaced by another control tool's config (twins/other-services.ts,
   * `replacedLine`): `was`, the sources it had; the twin holds the ones that stand now; `others`, the
   * other twins services on the fleet then; `fromStore`, `was` was the stored desire, no config of the
   * node seen since the service started.
   */
  "pairing-replaced": [
    twin: Twin,
    was: readonly NodeId[],
    others: readonly TwinsServiceInfo[],
    fromStore?: boolean,
  ];
  /** The convergence report changed (a follower's status or the counts). */
  convergence: [report: ConvergenceReport];
  "bad-input": [input: BadInput];
  /**
   * The broker was lost (false) or is back (true). Lost `silent`: the connection is up but the
   * broker has sent nothing for 5 s, its echo of the service's probe included (frozen, or the path
   * to it cut); lost `lost`: the connection went. A silence that ends with the connection dropping
   * is told lost twice (`silent`, then `lost`), otherwise once each way per outage. `lastHeardAt`:
   * when the broker was last heard from before the outage. A service started with `waitForBroker`
   * whose first attempt fails tells it lost `unreached` (no `lastHeardAt`: never heard), and back
   * once it connects. `stall`: the service itself did not run for a while (stopped, its VM paused:
   * node/stall-watch.ts) and the loss was noticed in it or just after: its own stall, the connection
   * lost on its own timers (the broker may have cut it meanwhile); told again with the return if it
   * was back soon after the stall, and not if the broker was away longer (an outage of its own).
   */
  broker: [connected: boolean, lastHeardAt?: number, how?: BrokerLoss | "unreached", stall?: Stall];
  /**
   * Who else holds a presence on the fleet changed (another twins service came or left:
   * twins/other-services.ts); `services`, sorted by client id, empty when this one is alone again.
   */
  "other-services": [services: readonly TwinsServiceInfo[]];
  /**
   * Once the broker's replay after a (re)subscription is over (twins/put-back.ts): `nodes` whose
   * report the broker no longer held (none, or an older one than the twin's: a broker restarted
   * without its retained messages, or from an older copy of them), their twins' put back. Not told
   * when there were none, nor by a passive service.
   */
  "put-back": [nodes: number];
  /**
   * The broker dropped messages (twins/retained-echo.ts, twins/broker-drops.ts): `retained-write`,
   * retained writes of the service it acknowledged and never delivered back; `to-clients`, the rise
   * of Mosquitto's own count of messages dropped for full client queues. `count` of them.
   */
  "broker-dropped": [what: BrokerDropped, count: number];
  /** The broker cut a read's replay of the nodes' retained state, re-read node by node (twins/replay-reread.ts). */
  "replay-cut": [told: ReplayCutTold];
}

export type BrokerDropped = "retained-write" | "to-clients";

/** A read whose replay the broker cut (twins/replay-cut.ts), and what its re-read made of it (twins/replay-reread.ts). */
export interface ReplayCutTold {
  /** The topic filters whose replay was cut. */
  readonly cut: readonly string[];
  /** The nodes' topics asked for again. */
  readonly asked: number;
  /** The SUBSCRIBEs the re-read took. */
  readonly subscribes: number;
  /** The topics still not read after it. */
  readonly unread: readonly string[];
  /** The nodes the service knows once the re-read is over. */
  readonly nodes: number;
}

/** What the re-read of a cut replay needs of the service: the nodes it knows, and where to tell it. */
export interface RereadHandler {
  known(): readonly NodeId[];
  told(t: ReplayCutTold): void;
}
