/**
 * What a shard (`sim --shard K/N`) tells of its broker and of its own stalls, for its shard report: the
 * outages its watch client saw (fleet/broker-outages.ts) and each time its own process did not run
 * (node/stall-watch.ts: stopped, its VM paused), on the shard's wall clock, with what they did to its
 * own nodes and in-shard pairs. A loss of the broker the shard's stall explains is the stall's, as in
 * a one-process run (docs/scale.md, "The run's own stall"): not an outage. `twinfleet report merge`
 * measures both over the whole fleet (fleet/shard-outages.ts).
 */
import type { AnalysisInput } from "../sim/recovery.js";
import type { BrokerOutages } from "./broker-outages.js";
import type { ShardOutage, ShardStall } from "./shard-report.js";
import { stallReports } from "./stall-report.js";
import { brokerOutages } from "./summarize.js";

/** The shard report's `brokerOutages` and `stalls` (none: absent), times on the wall clock by `wall`. */
export function shardBrokerReports(
  outages: BrokerOutages,
  input: Omit<AnalysisInput, "faults">,
  pressFrom: number,
  ignoredAt: readonly number[],
  wall: (at: number) => number,
): { brokerOutages: ShardOutage[]; stalls?: ShardStall[] } {
  const spans = outages.list(input.endMs);
  const outcomes = brokerOutages(spans, input, pressFrom);
  const shardOutages = spans.flatMap((s, i) => {
    const o = outcomes[i];
    return o === undefined ? [] : [{ ...o, startMs: wall(s.startMs), endMs: wall(s.endMs) }];
  });
  const { all, brokerLost } = outages.stalls();
  if (all.length === 0) return { brokerOutages: shardOutages };
  const reports = stallReports(all, brokerLost, ignoredAt, input, pressFrom);
  const stalls = all.flatMap((s, i) => {
    const r = reports[i];
    return r === undefined ? [] : [{ ...r, startMs: wall(s.startMs), endMs: wall(s.endMs) }];
  });
  return { brokerOutages: shardOutages, stalls };
}
