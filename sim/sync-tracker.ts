/**
 * Sync latency and lost deliveries, computed exactly as docs/metrics.md defines them: for each press
 * at a node s and each node f that follows s directly or through a chain, the time from the press
 * (the modeled interrupt) until f's applied state carries that press's stamp or a newer one; a pair
 * not reflected within `lostAfterMs` (5 s, the paper's definition) is lost.
 */
import { compareStamps, type NodeId, type Stamp } from "../protocol/index.js";
import { Buckets, Distribution } from "./histogram.js";

export interface StampEvent {
  readonly node: NodeId;
  readonly stamp: Stamp;
  /** Milliseconds on the run's clock. */
  readonly at: number;
}

interface Pending {
  readonly stamp: Stamp;
  readonly at: number;
}

export interface SyncCounts {
  readonly presses: number;
  /** (press, follower) pairs reflected within the limit. */
  readonly deliveries: number;
  /** Pairs whose follower already held a newer stamp when the press happened (latency 0). */
  readonly superseded: number;
  readonly lost: number;
  /** Pairs still waiting (younger than the limit) — 0 after finish(). */
  readonly pending: number;
}

export class SyncTracker {
  readonly latency = new Distribution(1000, 600_000);
  /** 50 ms bars up to 2 s, for live plots. */
  readonly bars = new Buckets(50, 2000);
  private readonly current = new Map<NodeId, Stamp>();
  private readonly waiting = new Map<NodeId, Pending[]>();
  private presses = 0;
  private deliveries = 0;
  private superseded = 0;
  private lost = 0;

  constructor(
    private readonly reach: ReadonlyMap<NodeId, readonly NodeId[]>,
    private readonly lostAfterMs = 5000,
  ) {}

  press(e: StampEvent): void {
    this.presses++;
    this.applied(e);
    for (const f of this.reach.get(e.node) ?? []) {
      const held = this.current.get(f);
      if (held && compareStamps(held, e.stamp) >= 0) {
        this.superseded++;
        this.deliveries++;
        this.record(0);
        continue;
      }
      const list = this.waiting.get(f);
      if (list) list.push({ stamp: e.stamp, at: e.at });
      else this.waiting.set(f, [{ stamp: e.stamp, at: e.at }]);
    }
  }

  /** A node's applied state now carries `stamp` (a press, a forwarded report, a set, a resync). */
  applied(e: StampEvent): void {
    const held = this.current.get(e.node);
    if (!held || compareStamps(e.stamp, held) > 0) this.current.set(e.node, e.stamp);
    const list = this.waiting.get(e.node);
    if (!list) return;
    let keep = 0;
    for (const p of list) {
      if (compareStamps(p.stamp, e.stamp) <= 0) {
        const ms = e.at - p.at;
        if (ms <= this.lostAfterMs) {
          this.deliveries++;
          this.record(Math.max(0, ms));
        } else {
          this.lost++;
        }
      } else {
        list[keep++] = p;
      }
    }
    list.length = keep;
    if (keep === 0) this.waiting.delete(e.node);
  }

  private record(ms: number): void {
    this.latency.record(ms);
    this.bars.record(ms);
  }

  /** A node rebooted: its RAM (and so its applied state) is gone until it resyncs. */
  forget(node: NodeId): void {
    this.current.delete(node);
  }

  /** Counts pairs older than the limit as lost. */
  sweep(now: number): void {
    for (const [f, list] of this.waiting) {
      const keep = list.filter((p) => now - p.at <= this.lostAfterMs);
      this.lost += list.length - keep.length;
      if (keep.length === 0) this.waiting.delete(f);
      else this.waiting.set(f, keep);
    }
  }

  /** At the end of a run: whatever still waits is lost. */
  finish(): void {
    for (const list of this.waiting.values()) this.lost += list.length;
    this.waiting.clear();
  }

  /** The newest stamp each node has applied, as last seen. */
  stampOf(node: NodeId): Stamp | undefined {
    return this.current.get(node);
  }

  counts(): SyncCounts {
    let pending = 0;
    for (const l of this.waiting.values()) pending += l.length;
    return {
      presses: this.presses,
      deliveries: this.deliveries,
      superseded: this.superseded,
      lost: this.lost,
      pending,
    };
  }
}
