/**
 * The message protocol between the fleet's main thread and its worker threads: the task that starts
 * a shard of nodes, the controls sent to it while it runs, and what it reports back. Every message
 * has a `type` discriminant.
 */

import type { MessagePort } from "node:worker_threads";
import type { HeapReading } from "../node/heap-live.js";
import type { LossSpec } from "../node/loss.js";
import type { DropCounts, NodeEvent } from "../node/metrics.js";
import type { DeviceProfile } from "../node/profile.js";
import type { NodeId, Stamp } from "../protocol/index.js";

/** Starts a shard. Times are on the run's clock (its scheduler's `now()`). */
export interface ShardTask {
  readonly shard: number;
  readonly ids: readonly NodeId[];
  /** When each node powers on (same order as ids). */
  readonly bootAt: readonly number[];
  readonly brokerHost: string;
  readonly brokerPort: number;
  /**
   * The addresses brokerHost, a name, named when the run started: the nodes connect there and do not
   * look the name up again (fleet/broker-address.ts). Absent for an address.
   */
  readonly brokerAddresses?: readonly string[];
  readonly prefix: string;
  readonly profile: DeviceProfile;
  readonly seed: string;
  readonly loss: LossSpec;
  /** Poisson presses per node per second, started by a `start-presses` control (none when absent). */
  readonly pressRatePerSec?: number;
  /**
   * The date (ms since the Unix epoch) at which the run's clock reads 0 (`wallNow() - now()` of its
   * scheduler): the shard's RealScheduler counts from it, so all threads share one clock.
   */
  readonly timeOrigin: number;
  /** When set, each node logs in with its node id as user name and this password (node role). */
  readonly nodePassword?: string;
  readonly port: MessagePort;
  /**
   * An in-memory transport to a broker thread of this process (node/port-wire.ts): the nodes use it
   * instead of TCP to brokerHost:brokerPort, and open no file descriptor.
   */
  readonly brokerLink?: MessagePort;
}

export type ShardControl =
  | { readonly type: "set-loss"; readonly loss: LossSpec }
  | { readonly type: "start-presses"; readonly from: number; readonly until: number }
  | { readonly type: "stop-presses" }
  | { readonly type: "press"; readonly id: NodeId }
  | { readonly type: "power-cycle"; readonly id: NodeId; readonly offMs: number }
  /** Power off (RAM lost, no goodbye to the broker) or on (boot) for these nodes, now. */
  | { readonly type: "power"; readonly ids: readonly NodeId[]; readonly on: boolean }
  | { readonly type: "cable"; readonly ids: readonly NodeId[]; readonly pulled: boolean }
  | { readonly type: "detail"; readonly id: NodeId; readonly requestId: number }
  | { readonly type: "finish" };

export interface NodeFinal {
  readonly id: NodeId;
  readonly on: boolean;
  readonly stamp: Stamp;
  readonly sources: readonly NodeId[];
  readonly cpuPct: number;
  readonly synced: boolean;
}

export interface LinkTotals {
  segments: number;
  retransmissions: number;
  timeouts: number;
  /** Sessions lost while connected (the power going at the run's end not counted). */
  disconnects: number;
  /** Of the sessions lost, the ones the node's keepalive ping ended (no answer within a keepalive). */
  keepaliveTimeouts: number;
  /** Of the sessions lost, the ones the broker closed (its FIN, or a reset, reached the node). */
  closedByBroker: number;
  /** Of the sessions lost, the ones the node closed itself (a packet it could not read: `malformed`). */
  closedByNode: number;
  /** Of the sessions lost, the ones the chip's TCP gave up (retransmissions unanswered). */
  tcpTimeouts: number;
  /** Of the sessions lost, the ones the power going ended (a power outage while connected). */
  powerCuts: number;
  reconnects: number;
  oversizedDropped: number;
  /** Messages the nodes dropped, by reason (the core's drops and the sketch's refusals). */
  drops: DropCounts;
}

/** Link totals at zero, to add to. */
export function noLinkTotals(): LinkTotals {
  return {
    segments: 0,
    retransmissions: 0,
    timeouts: 0,
    disconnects: 0,
    keepaliveTimeouts: 0,
    closedByBroker: 0,
    closedByNode: 0,
    tcpTimeouts: 0,
    powerCuts: 0,
    reconnects: 0,
    oversizedDropped: 0,
    drops: {},
  };
}

/** One simulated node's modeled figures, fetched from its worker for the console's detail pane. */
export interface SimNodeDetail {
  readonly id: NodeId;
  readonly cpuPct: number;
  readonly ramBytes: number;
  readonly sramBytes: number;
  readonly link: {
    readonly retransmissions: number;
    readonly timeouts: number;
    readonly reconnects: number;
    /** Messages the node dropped but its own echoes (`stale`): bad or refused input. */
    readonly dropped: number;
  };
  readonly connected: boolean;
}

export type ShardReport =
  | { readonly type: "events"; readonly shard: number; readonly events: readonly NodeEvent[] }
  | {
      readonly type: "lag";
      readonly shard: number;
      /** Since the thread started: p99 and max. */
      readonly p99Ms: number;
      readonly maxMs: number;
      /** p99 since its previous report: the lag now. */
      readonly recentP99Ms: number;
      /** Its JS heap after its last full collection, and its limit. */
      readonly heap?: HeapReading;
    }
  | { readonly type: "detail"; readonly requestId: number; readonly detail: SimNodeDetail | undefined }
  /** No shard: the pool's own (a spare thread that could not start, fleet/shards.ts). */
  | { readonly type: "error"; readonly shard?: number; readonly message: string };

/**
 * A shard's last word on its port, after its last events: its result comes back by another way and
 * may arrive first, so the host keeps the port open until this (fleet/shards.ts).
 */
export interface ShardDone {
  readonly type: "done";
  readonly shard: number;
}

/** What a shard's port carries to its host. */
export type ShardPortMessage = ShardReport | ShardDone;

/** What a shard's task resolves to after `finish`. */
export interface ShardResult {
  readonly shard: number;
  readonly nodes: readonly NodeFinal[];
  readonly link: LinkTotals;
  readonly lagP99Ms: number;
  readonly lagMaxMs: number;
}

/** What a shard needs beyond its nodes: the same for every shard of a run. */
export type ShardCommon = Omit<ShardTask, "port" | "shard" | "ids" | "bootAt">;

/**
 * Whoever runs a fleet's shards: worker threads on wall time (fleet/shards.ts), or one shard beside
 * the in-memory broker on virtual time (sim/virtual-shards.ts). The run talks to its nodes only
 * through this.
 */
export interface ShardHost {
  /** Starts the nodes over `shards` shards, each booting in its slot from `t0` over `bootSpreadMs`. */
  launch(ids: readonly NodeId[], shards: number, t0: number, bootSpreadMs: number, common: ShardCommon): void;
  broadcast(c: ShardControl): void;
  /** Sends a control to the shard that owns `id`; false if no shard does. */
  send(id: NodeId, c: ShardControl): boolean;
  /** Sends one control per shard for the ids it owns (`make` gets that shard's share). */
  sendMany(ids: readonly NodeId[], make: (ids: readonly NodeId[]) => ShardControl): void;
  has(id: NodeId): boolean;
  detail(id: NodeId): Promise<SimNodeDetail | undefined>;
  /** Stops every shard and collects their final states. */
  finish(): Promise<ShardResult[]>;
  destroy(): Promise<void>;
}

/** The shards of a fleet: shard s holds every shards-th node from s on, booting in its slot. */
export function shardSlots(
  ids: readonly NodeId[],
  shards: number,
  t0: number,
  bootSpreadMs: number,
): { ids: NodeId[]; bootAt: number[] }[] {
  const spread = bootSpreadMs / ids.length;
  const out: { ids: NodeId[]; bootAt: number[] }[] = [];
  for (let s = 0; s < shards; s++) {
    const mine = ids.filter((_, i) => i % shards === s);
    out.push({ ids: mine, bootAt: mine.map((_, k) => t0 + (s + k * shards) * spread) });
  }
  return out;
}
