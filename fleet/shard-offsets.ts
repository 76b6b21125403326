/**
 * Clock offsets between shards, from their clock probes through the broker (fleet/shard-probe.ts),
 * NTP-style against shard 1. For shards 1 and j: a = min over 1's probes of (j's receive time − 1's
 * send time) = delay(1→j) + θj − θ1, and b = min over j's probes of (1's receive time − j's send time)
 * = delay(j→1) + θ1 − θj, where θ is a clock's error. With equal delays both ways, θj − θ1 = (a − b)/2;
 * whatever the delays, the true offset lies within (a + b)/2 of it — half the round trip 1→broker→j
 * and back, taken from the quickest probes. A time on shard j's clock is put on shard 1's by
 * subtracting j's offset.
 *
 * A time on shard j's corrected clock is then within `boundMs` of shard 1's: the offset's
 * uncertainty, or, for a shard whose probes never crossed with shard 1's but that ran on shard 1's
 * host, the two processes' clock origins' bounds added (each is its host's date to within its own,
 * node/wall-origin.ts). A latency from a press on shard i to an apply on shard j is out by at most
 * bound(i) + bound(j), so the two largest bounds added bound every latency across shards: the
 * largest alone does not, once two shards other than shard 1 are both off, in opposite directions.
 *
 * A bound that is a large part of the latencies it affects is flagged, not only printed: a shard's
 * clock bound as it starts (wideClockLine), the fleet's bound against the p50 across shards in the
 * merged report (wideCrossShardBound). Ordinary bounds are far below both thresholds: a clock is its
 * host's date to within 0.001-0.002 ms here (0.023 ms at most with 25 processes starting beside busy
 * loops, docs/shards.md), and two shards on one host through a broker there were within 0.868 ms of
 * each other against a p50 across shards of 29.5 ms (3 %; 12 % of the 7.3 ms p50 of a one-process
 * run). A wide one comes of a process held off its core through the reads that date its clock (other
 * work loading the host) or of its probes' every trip through the broker held up.
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
  /** Its clock is its host's date to within this (ms); null in reports written before it was recorded. */
  readonly originUncertaintyMs: number | null;
  /** Its corrected clock is shard 1's to within this (ms); null: unknown (no offset, another host). */
  readonly boundMs: number | null;
  /** Probes of shard 1 it received, and of its own that shard 1 received. */
  readonly probesFrom1: number;
  readonly probesTo1: number;
}

const r3 = (v: number) => Math.round(v * 1000) / 1000;

/** A latency across shards out by this part of their p50 or more is flagged as uncertain. */
export const WIDE_BOUND_OF_P50 = 0.25;

/**
 * A shard's clock this far from its host's date or further is told as it starts: above every ordinary
 * bound by 40 times, and below a quarter of the smallest sync p50 measured here (7.3 ms).
 */
export const WIDE_CLOCK_MS = 1;

/** Whether the most a latency across shards can be out by is a large part of their p50. */
export function wideCrossShardBound(errorMaxMs: number | null | undefined, p50Ms: number | null): boolean {
  if (errorMaxMs == null || p50Ms === null || p50Ms <= 0) return false;
  return errorMaxMs >= p50Ms * WIDE_BOUND_OF_P50;
}

/** The warning for a shard whose clock is its host's date only to within `boundMs`, if that is wide. */
export function wideClockLine(boundMs: number): string | undefined {
  if (boundMs < WIDE_CLOCK_MS) return undefined;
  return `this shard's clock is its host's date only to within ± ${boundMs.toFixed(1)} ms (the process was held off its core as it read the clocks: other work loading the host, or the host's clock stepped then): where its clock probes and shard 1's do not cross, every latency across shards to or from it is out by as much, and the merge flags it where that is a quarter of their p50 or more (docs/shards.md, "Clock offsets")`;
}

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
      const originUncertaintyMs = f.probes.originUncertaintyMs ?? null;
      if (j === 1)
        return {
          shard: 1,
          offsetMs: 0,
          uncertaintyMs: 0,
          originUncertaintyMs,
          boundMs: 0,
          roundTripMs,
          probesFrom1: own?.count ?? 0,
          probesTo1: own?.count ?? 0,
        };
      const from1 = f.probes.received["1"];
      const to1 = ref?.probes.received[String(j)];
      const ref1 = ref?.probes.originUncertaintyMs;
      if (!from1 || !to1)
        return {
          shard: j,
          offsetMs: 0,
          uncertaintyMs: null,
          originUncertaintyMs,
          // Uncorrected: on shard 1's host both clocks are that host's date, each to within its bound.
          boundMs:
            ref?.hostname === f.hostname && ref1 !== undefined && originUncertaintyMs !== null
              ? r3(ref1 + originUncertaintyMs)
              : null,
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
        originUncertaintyMs,
        boundMs: r3(Math.max(0, (a + b) / 2)),
        roundTripMs,
        probesFrom1: from1.count,
        probesTo1: to1.count,
      };
    });
}

/** The most a latency across shards can be out by (ms): the two largest bounds added; null if any is unknown. */
export function crossShardErrorMaxMs(offsets: readonly ShardOffset[]): number | null {
  const bounds = offsets.map((o) => o.boundMs);
  if (bounds.some((b) => b === null)) return null;
  const [x = 0, y = 0] = (bounds as number[]).sort((p, q) => q - p);
  return r3(x + y);
}
