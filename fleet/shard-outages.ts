/**
 * The broker's outages over a sharded fleet (`twinfleet report merge`): every shard's watch-client
 * spans, put on shard 1's clock and joined where they overlap — the same outage seen by several
 * shards is one, from the first shard's loss to the last one's return, back only if every shard that
 * saw it had the broker back — then measured over the whole fleet as a one-process run measures its
 * own (fleet/summarize.ts brokerOutages): every node's timeline from the shards, every pair the
 * replay decided, every press. A shard's own stalls (its process stopped: fleet/shard-stalls.ts) are
 * put on shard 1's clock too, each measured over the nodes it froze, that shard's.
 */
import type { NodeId } from "../protocol/index.js";
import type { SyncChecker } from "../sim/checker.js";
import { type AnalysisInput, NodeTimeline } from "../sim/recovery.js";
import type { OutageSpan } from "./broker-outages.js";
import type { BrokerOutageReport } from "./report.js";
import type { ShardFile } from "./shard-report.js";
import { type StallReport, stallReports } from "./stall-report.js";
import { brokerOutages } from "./summarize.js";

/** One outage of the fleet on shard 1's clock, and the shards whose client saw it. */
export interface JoinedOutage extends OutageSpan {
  readonly shards: readonly number[];
}

/** The shards' outages on shard 1's clock (`offsetOf`: what to subtract per shard), joined where they overlap. */
export function joinOutages(
  files: readonly ShardFile[],
  offsetOf: ReadonlyMap<number, number>,
): JoinedOutage[] {
  const spans = files
    .flatMap((f) => {
      const off = offsetOf.get(f.shard.index) ?? 0;
      return (f.brokerOutages ?? []).map((o) => ({
        startMs: o.startMs - off,
        endMs: o.endMs - off,
        back: o.back,
        refused: o.refused,
        shard: f.shard.index,
      }));
    })
    .sort((a, b) => a.startMs - b.startMs);
  type Joined = { startMs: number; endMs: number; back: boolean; refused?: string; shards: Set<number> };
  const joined: Joined[] = [];
  for (const s of spans) {
    const last = joined.at(-1);
    if (last !== undefined && s.startMs <= last.endMs) {
      last.endMs = Math.max(last.endMs, s.endMs);
      last.back &&= s.back;
      last.refused ??= s.refused;
      last.shards.add(s.shard);
    } else {
      const { startMs, endMs, back, refused } = s;
      joined.push({
        startMs,
        endMs,
        back,
        ...(refused !== undefined ? { refused } : {}),
        shards: new Set([s.shard]),
      });
    }
  }
  return joined.map((j) => ({ ...j, shards: [...j.shards].sort((a, b) => a - b) }));
}

export interface OutageFleet {
  readonly ids: readonly NodeId[];
  readonly reach: ReadonlyMap<NodeId, readonly NodeId[]>;
  readonly offsetOf: ReadonlyMap<number, number>;
  /** The replay's finished checkers: between them, every pair once. */
  readonly checkers: readonly SyncChecker[];
}

/** The fleet's broker outages as the merged report states them; empty when no shard saw one. */
export function mergedOutages(files: readonly ShardFile[], fleet: OutageFleet): BrokerOutageReport[] {
  const spans = joinOutages(files, fleet.offsetOf);
  if (spans.length === 0) return [];
  const { input, pressStartMs } = fleetInput(files, fleet);
  const reports = brokerOutages(spans, input, pressStartMs);
  return reports.map((r, i) => ({ ...r, shards: spans[i]?.shards ?? [] }));
}

/**
 * Each shard's own stalls as the merged report states them, on shard 1's clock, oldest first: each
 * measured over the nodes it froze (its shard's), the pairs through them and the presses of its shard
 * that came due in it; empty when no shard stalled (or a shard report from before the watch).
 */
export function mergedStalls(files: readonly ShardFile[], fleet: OutageFleet): StallReport[] {
  if (!files.some((f) => (f.stalls ?? []).length > 0)) return [];
  const { input, pressStartMs } = fleetInput(files, fleet);
  return files
    .flatMap((f) => {
      const off = fleet.offsetOf.get(f.shard.index) ?? 0;
      const stalls = (f.stalls ?? []).map((s) => ({ startMs: s.startMs - off, endMs: s.endMs - off }));
      if (stalls.length === 0) return [];
      const lost = stalls.filter((_, i) => f.stalls?.[i]?.brokerLost === true);
      const pressTimes = f.presses.map((p) => p[2] - off).sort((a, b) => a - b);
      const reports = stallReports(
        stalls,
        lost,
        [],
        { ...input, pressTimes },
        pressStartMs,
        f.nodes as NodeId[],
      );
      // Its presses ignored as bounces are known to the shard alone.
      return reports.map((r, i) => ({
        ...r,
        pressesIgnored: f.stalls?.[i]?.pressesIgnored ?? 0,
        shard: f.shard.index,
      }));
    })
    .sort((a, b) => a.atMs - b.atMs);
}

/** The whole fleet's records for a fault analysis, on shard 1's clock, and when its presses began. */
function fleetInput(
  files: readonly ShardFile[],
  fleet: OutageFleet,
): { input: Omit<AnalysisInput, "faults">; pressStartMs: number } {
  const timeline = new NodeTimeline();
  const pressTimes: number[] = [];
  let endMs = Number.NEGATIVE_INFINITY;
  let pressStartMs = Number.POSITIVE_INFINITY;
  for (const f of files) {
    const off = fleet.offsetOf.get(f.shard.index) ?? 0;
    const t = f.timeline;
    for (const [id, times] of Object.entries(t?.disconnects ?? {}))
      for (const at of times) timeline.disconnected(id as NodeId, at - off);
    for (const [id, times] of Object.entries(t?.registrations ?? {}))
      for (const at of times) timeline.registered(id as NodeId, at - off);
    for (const [id, times] of Object.entries(t?.offline ?? {}))
      for (const at of times) timeline.wentOffline(id as NodeId, at - off);
    for (const p of f.presses) pressTimes.push(p[2] - off);
    endMs = Math.max(endMs, f.endMs - off);
    pressStartMs = Math.min(pressStartMs, f.pressStartMs - off);
  }
  pressTimes.sort((a, b) => a - b);
  // The replay's checkers keep every pair (no fault window was known while they ran); each pair is in one of them.
  const pressAt: number[] = [];
  const latencyMs: number[] = [];
  const slow: SyncChecker["slow"] = [];
  for (const c of fleet.checkers) {
    const p = c.pairs();
    for (let i = 0; i < p.pressAt.length; i++) {
      pressAt.push(p.pressAt[i] as number);
      latencyMs.push(p.latencyMs[i] as number);
    }
    for (const s of c.slow) slow.push(s);
  }
  return {
    input: {
      fleet: fleet.ids,
      reach: fleet.reach,
      timeline,
      pairs: { pressAt, latencyMs },
      slow,
      pressTimes,
      endMs,
    },
    pressStartMs,
  };
}
