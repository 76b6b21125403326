/**
 * What a simulated node reports: a discriminated union of events with modeled timestamps (ms on the
 * node's scheduler), pushed to a plain callback — no emitter, no allocation beyond the event — and
 * the counters a runner reads when it wants them.
 */
import { DROP_REASONS, type DropReason, type NodeId, type Stamp } from "../protocol/index.js";
import type { LinkStats } from "./link.js";
import type { RamBudget } from "./ram.js";

/**
 * Why a session ended: the node's keepalive, the chip's TCP giving up, the broker closing it, the
 * power, or the node itself stopping the socket on a packet it cannot read (`malformed`: a remaining
 * length still going on at its fourth byte, where PubSubClient's readPacket() stops).
 */
export type DisconnectReason =
  | "keepalive"
  | "socket-timeout"
  | "closed"
  | "power-off"
  | "malformed"
  | "read-timeout";
/**
 * How a connection attempt failed: no TCP connection, no CONNACK in time, a CONNACK with an error
 * code (any 4-byte packet whose 4th byte is not 0: PubSubClient reads no type), a first packet
 * PubSubClient cannot take for a CONNACK (not 4 bytes long, over its buffer, a malformed length:
 * `bad-connack`), or a CONNECT over its buffer (its connect() stops the socket without sending it).
 */
export type ConnectFailure = "handshake" | "connack-timeout" | "refused" | "bad-connack" | "connect-too-long";

export type NodeEvent =
  | { readonly type: "boot"; readonly node: NodeId; readonly at: number }
  /** The button interrupt at `at`; `stamp` is what it published, absent when held until sync. */
  | {
      readonly type: "press";
      readonly node: NodeId;
      readonly at: number;
      readonly ledAt: number;
      readonly stamp?: Stamp;
    }
  /** The button interrupt ignored a press: within the profile's sketch.debounceMs of the last one it took. */
  | { readonly type: "press-ignored"; readonly node: NodeId; readonly at: number }
  /** Presses held while not synced took this stamp when the sync completed. */
  | {
      readonly type: "held-applied";
      readonly node: NodeId;
      readonly at: number;
      readonly stamp: Stamp;
      readonly presses: number;
    }
  /** A received message changed the node's state (LED written at `at`). */
  | {
      readonly type: "applied";
      readonly node: NodeId;
      readonly at: number;
      readonly stamp: Stamp;
      readonly on: boolean;
      readonly via: "report" | "state" | "own-report";
    }
  | { readonly type: "connected"; readonly node: NodeId; readonly at: number; readonly attemptAt: number }
  /** The sync completed holding `stamp` (after a reboot: what the node got back from the broker). */
  | { readonly type: "synced"; readonly node: NodeId; readonly at: number; readonly stamp: Stamp }
  | {
      readonly type: "disconnected";
      readonly node: NodeId;
      readonly at: number;
      readonly reason: DisconnectReason;
      /**
       * Closed by the broker before it sent anything after the CONNACK (not the SUBACK of the
       * subscribe the node sends at once): a broker ending each session as soon as it accepted it.
       * A takeover by another client with the same id closes a connection the broker had served.
       */
      readonly unanswered?: true;
    }
  | {
      readonly type: "connect-failed";
      readonly node: NodeId;
      readonly at: number;
      readonly reason: ConnectFailure;
      /**
       * A connack-timeout whose connection the broker closed at once, before its CONNACK (a broker
       * at its open-files or connection limit, one that banned the address): PubSubClient waits its
       * socket timeout all the same, and its failure reads the same.
       */
      readonly closedAtOnce?: true;
    }
  /**
   * The echo of the node's own report came back on its subscription to its own report topic: the
   * paper's latency, from the publish (handed to the W5100) to the loop reading the echo.
   */
  | {
      readonly type: "echo";
      readonly node: NodeId;
      readonly at: number;
      readonly publishedAt: number;
      readonly stamp: Stamp;
    }
  /**
   * The node follows `sources` from `at` on: it adopted a newer config (its retained one at a sync,
   * or one written while it was online) or carried out a follow or unfollow command.
   */
  | {
      readonly type: "sources";
      readonly node: NodeId;
      readonly at: number;
      readonly sources: readonly NodeId[];
    }
  /** An incoming packet over the PubSubClient buffer, drained and dropped without a callback. */
  | { readonly type: "oversized"; readonly node: NodeId; readonly at: number; readonly bytes: number }
  | {
      readonly type: "drop";
      readonly node: NodeId;
      readonly at: number;
      readonly reason: DropReason;
      readonly topic: string;
    };

export type NodeEventSink = (e: NodeEvent) => void;

export interface CpuStats {
  /** Cycles doing work: interrupts, loop iterations that read or send, keepalive, sync. */
  readonly workCycles: number;
  /** Cycles busy-waiting on the chip or the network (connect, CONNACK, full TX buffer). */
  readonly blockedCycles: number;
  /** Cycles of idle polls that found nothing (not busy). */
  readonly pollCycles: number;
  /** Cycles since power-on (powered time only). */
  readonly elapsedCycles: number;
  /** (work + blocked) / elapsed. */
  readonly utilization: number;
  /** (work + blocked + poll) / elapsed: what a profiler counting every loop() would show. */
  readonly utilizationWithPolling: number;
}

export interface MqttStats {
  connects: number;
  connectFailures: number;
  /** Sessions lost: the connection dropped, or the power went, while connected. */
  disconnects: number;
  reconnects: number;
  keepaliveTimeouts: number;
  /** Sessions the broker ended: its FIN, or a reset to the node's segment, reached the node. */
  closedByBroker: number;
  /** Sessions the node closed itself on a packet it could not read (`malformed`). */
  closedByNode: number;
  /** Sessions the chip's TCP ended: a segment's retransmissions went unanswered (`socket-timeout`). */
  tcpTimeouts: number;
  /** Sessions the power going ended (a power outage, a node powered off while connected). */
  powerCuts: number;
  pings: number;
  packetsIn: number;
  packetsOut: number;
  oversizedDropped: number;
  oversizedPublishes: number;
  /** Messages the node dropped, by reason (the sketch's `drops`): the core's, and its own refusals. */
  drops: DropCounts;
}

/**
 * Messages dropped, by reason: the core's drops (a bad topic, payload, stale stamp…), and a length
 * PubSubClient wrapped below zero, which the sketch's copyReceived refuses (`too-long`).
 */
export type DropCounts = Partial<Record<DropReason, number>>;

/** Counts one drop for `reason` in `drops`. */
export function countDrop(drops: DropCounts, reason: DropReason): void {
  drops[reason] = (drops[reason] ?? 0) + 1;
}

/** Adds `from`'s counts to `into`, the reasons this build knows and counts that are numbers only. */
export function addDrops(into: DropCounts, from: unknown): void {
  if (typeof from !== "object" || from === null) return;
  const f = from as Record<string, unknown>;
  for (const r of DROP_REASONS) {
    const n = f[r];
    if (typeof n === "number" && Number.isFinite(n) && n > 0) into[r] = (into[r] ?? 0) + n;
  }
}

/** A session's counters, all 0. */
export function newMqttStats(): MqttStats {
  return {
    connects: 0,
    connectFailures: 0,
    disconnects: 0,
    reconnects: 0,
    keepaliveTimeouts: 0,
    closedByBroker: 0,
    closedByNode: 0,
    tcpTimeouts: 0,
    powerCuts: 0,
    pings: 0,
    packetsIn: 0,
    packetsOut: 0,
    oversizedDropped: 0,
    oversizedPublishes: 0,
    drops: {},
  };
}

export interface NodeStats {
  readonly cpu: CpuStats;
  readonly link: LinkStats;
  readonly mqtt: Readonly<MqttStats>;
  /** Bytes waiting in the W5100 RX buffer now, and the most ever. */
  readonly rxBytes: number;
  readonly rxPeakBytes: number;
  readonly ram: RamBudget;
}
