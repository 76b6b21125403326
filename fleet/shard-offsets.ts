/**
 * Clock offsets between shards, from their clock probes through the broker (fleet/shard-probe.ts),
 * NTP-style against shard 1. For shards 1 and j: a = min over 1's probes of (j's receive time − 1's
 * send time) = delay(1→j) + θj − θ1, and b = min over j's probes of (1's receive time − j's send time)
 * = delay(j→1) + θ1 − θj, where θ is a clock's error. With equal delays both ways, θj − θ1 = (a − b)/2;
 * whatever the delays, the true offset lies within (a + b)/2 of it — half the round trip 1→broker→j
 * and back, taken from the quickest probes. A time on shard j's clock is put on shard 1's by
 * subtracting j's offset.
 */
import type { ShardFile } from "./shard-report.js";

export interface ShardOffset {
  readonly shard: number;
  /** This shard's clock minus shard 1's (ms); 0 for shard 1. */
  readonly offsetMs: number;
  /** The true offset is within this of offsetMs (ms); null when no probe crossed in both directions. */
  readonly uncertaintyMs: number | null;
  /** The quickest round trip of its own probes through the broker (ms), if any came back. */
  readonly roundTripMs: number | null;
  /** Probes of shard 1 it received, and of its own that shard 1 received. */
  readonly probesFrom1: number;
  readonly probesTo1: number;
}

const r3 = (v: number) => Math.round(v * 1000) / 1000;

/** One offset per file, in shard order; `files` must hold shard 1. */
export function shardOffsets(files: readonly ShardFile[]): ShardOffset[] {
  const byIndex = new Map(files.map((f) => [f.shard.index, f]));
  const ref = byIndex.get(1);
  return [...files]
    .sort((x, y) => x.shard.index - y.shard.index)
    .map((f) => {
      const j = f.shard.index;
      const own = f.probes.received[String(j)];
      const roundTripMs = own ? r3(own.minDeltaMs) : null;
      if (j === 1)
        return {
          shard: 1,
          offsetMs: 0,
          uncertaintyMs: 0,
          roundTripMs,
          probesFrom1: own?.count ?? 0,
          probesTo1: own?.count ?? 0,
        };
      const from1 = f.probes.received["1"];
      const to1 = ref?.probes.received[String(j)];
      if (!from1 || !to1)
        return {
          shard: j,
          offsetMs: 0,
          uncertaintyMs: null,
          roundTripMs,
          probesFrom1: from1?.count ?? 0,
          probesTo1: to1?.count ?? 0,
        };
      const a = from1.minDeltaMs;
      const b = to1.minDeltaMs;
      return {
        shard: j,
        offsetMs: r3((a - b) / 2),
        uncertaintyMs: r3(Math.max(0, (a + b) / 2)),
        roundTripMs,
        probesFrom1: from1.count,
        probesTo1: to1.count,
      };
    });
}
