/**
 * What a shard keeps for its report on the wall clock: the presses and applies the merge joins, and
 * its nodes' timeline for the merge's outage analysis.
 */
import type { NodeId, Stamp } from "../protocol/index.js";
import { formatStamp } from "../protocol/index.js";
import type { NodeTimeline } from "../sim/recovery.js";
import type { PressLog } from "./collector.js";
import type { ShardTimeline } from "./shard-report.js";

/** The nodes' timeline on the wall clock, for the merge's outage analysis. */
export function wallTimeline(t: NodeTimeline, wall: (at: number) => number): ShardTimeline {
  const of = (m: ReadonlyMap<string, readonly number[]>) =>
    Object.fromEntries([...m].map(([id, times]) => [id, times.map(wall)]));
  return { disconnects: of(t.disconnects), registrations: of(t.registrations), offline: of(t.offline) };
}

/** The presses and applies the merge needs, as the collector sees them, on the wall clock. */
export class PressRecords implements PressLog {
  readonly presses: [string, string | null, number][] = [];
  readonly applies: [string, string, number][] = [];

  constructor(private readonly wall: (at: number) => number) {}

  press(node: NodeId, stamp: Stamp | null, at: number): void {
    this.presses.push([node, stamp === null ? null : formatStamp(stamp), this.wall(at)]);
  }

  applied(node: NodeId, stamp: Stamp, at: number): void {
    this.applies.push([node, formatStamp(stamp), this.wall(at)]);
  }
}
