/**
 * A fleet's nodes on virtual time: one shard on the run's FakeScheduler, wired to the in-memory
 * broker, its events handed to the run as they happen (in time order, so no reorder is needed) and
 * its controls carried out at once. Everything runs in one thread, so a run is the same for the same
 * seed, to the bit.
 */
import type { NodeEvent } from "../node/metrics.js";
import type { Scheduler } from "../node/scheduler.js";
import type { NodeId } from "../protocol/index.js";
import type { MemoryBroker } from "./memory-broker.js";
import {
  type ShardCommon,
  type ShardControl,
  type ShardHost,
  type ShardReport,
  type ShardResult,
  type SimNodeDetail,
  shardSlots,
} from "./messages.js";
import { Shard } from "./shard.js";

export class VirtualShards implements ShardHost {
  private shard: Shard | undefined;

  constructor(
    private readonly sched: Scheduler,
    private readonly broker: MemoryBroker,
    private readonly onReport: (r: ShardReport) => void,
    /**
     * The whole fleet, when these nodes are one part of it (fleet/virtual-part.ts): each node boots
     * at its slot in the whole fleet, as it would with every node in this thread.
     */
    private readonly fleet?: readonly NodeId[],
  ) {}

  /** One shard whatever `shards` says: a thread of its own would break the one clock. */
  launch(
    ids: readonly NodeId[],
    _shards: number,
    t0: number,
    bootSpreadMs: number,
    common: ShardCommon,
  ): void {
    const [all] = shardSlots(this.fleet ?? ids, 1, t0, bootSpreadMs);
    if (!all) return;
    const slots = this.fleet ? partSlots(all, ids) : all;
    const sink = (e: NodeEvent) => this.onReport({ type: "events", shard: 0, events: [e] });
    this.shard = new Shard({ ...common, shard: 0, ...slots }, this.sched, this.broker.wire(), sink);
  }

  broadcast(c: ShardControl): void {
    if (c.type === "finish" || c.type === "detail") return;
    this.shard?.control(c);
  }

  send(id: NodeId, c: ShardControl): boolean {
    if (!this.has(id)) return false;
    this.broadcast(c);
    return true;
  }

  sendMany(ids: readonly NodeId[], make: (ids: readonly NodeId[]) => ShardControl): void {
    const mine = ids.filter((id) => this.has(id));
    if (mine.length > 0) this.broadcast(make(mine));
  }

  has(id: NodeId): boolean {
    return this.shard?.nodes.has(id) ?? false;
  }

  detail(id: NodeId): Promise<SimNodeDetail | undefined> {
    return Promise.resolve(this.shard?.detail(id));
  }

  async finish(): Promise<ShardResult[]> {
    const s = this.shard;
    if (!s) return [];
    this.shard = undefined;
    // The run is over: the nodes' goodbyes (their wills) would reach nobody who still counts.
    this.broker.shutdown();
    const { nodes, link } = s.finish();
    return [{ shard: 0, nodes, link, lagP99Ms: 0, lagMaxMs: 0 }];
  }

  async destroy(): Promise<void> {
    if (this.shard) await this.finish();
  }
}

/** The slots of `ids` (in their order) among the whole fleet's. */
function partSlots(all: { ids: NodeId[]; bootAt: number[] }, ids: readonly NodeId[]) {
  const at = new Map(all.ids.map((id, i) => [id, all.bootAt[i] as number]));
  return { ids: [...ids], bootAt: ids.map((id) => at.get(id) as number) };
}
