/**
 * The nodes' broker name that moved mid-run, in the shard reports and the merged report. A shard
 * pins its nodes' broker addresses and warns of a move as a one-process run does
 * (fleet/broker-address.ts), but its shard report and `report merge`'s fleet report said nothing:
 * a site running shards on several hosts saw the move in one host's log at best. A shard report
 * keeps its own `brokerMoved` (times from the shard's press start); the merged report keeps every
 * shard's in `shardBrokerMoved`, each naming its shard (shards started at different times may have
 * pinned different addresses, and a shard's host may resolve the name its own way), its times moved
 * to the fleet's press start on shard 1's clock (as its claims: fleet/shard-claims.ts).
 */
import type { BrokerMovedReport } from "./broker-address.js";

/** One shard's `brokerMoved` as the merged report keeps it. */
export interface ShardBrokerMovedReport extends BrokerMovedReport {
  readonly shard: number;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const strings = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === "string");

/** What is wrong with a shard report's `brokerMoved` (absent is fine: none, or an older shard's); undefined when whole. */
export function movedProblem(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (!isObj(v) || typeof v.host !== "string" || !strings(v.nodesAt) || !Array.isArray(v.moves))
    return "brokerMoved must have host (a string), nodesAt (strings) and moves (an array)";
  for (const [i, m] of v.moves.entries())
    if (!isObj(m) || typeof m.atMs !== "number" || !Number.isFinite(m.atMs) || !strings(m.names))
      return `brokerMoved.moves[${i}] must have atMs (a number) and names (strings)`;
  return undefined;
}

/** The shard report's field: `brokerMoved` when the name moved, nothing when it did not. */
export function movedField(moved: BrokerMovedReport | undefined): { brokerMoved?: BrokerMovedReport } {
  return moved === undefined ? {} : { brokerMoved: moved };
}

/** A shard's report as the merge reads it for the moves. */
interface MovedOf {
  readonly shard: { readonly index: number };
  readonly pressStartMs: number;
  readonly brokerMoved?: BrokerMovedReport;
}

/**
 * The merged report's `shardBrokerMoved`: each shard that saw the name move, by shard, its times
 * from the fleet's press start (the earliest shard's, on shard 1's clock through `offsetOf`).
 */
export function mergeShardMoved(
  files: readonly MovedOf[],
  offsetOf: ReadonlyMap<number, number>,
): { shardBrokerMoved?: ShardBrokerMovedReport[] } {
  const press = (f: MovedOf) => f.pressStartMs - (offsetOf.get(f.shard.index) ?? 0);
  const fleetPress = Math.min(...files.map(press));
  const moved = files
    .filter((f) => f.brokerMoved !== undefined && f.brokerMoved.moves.length > 0)
    .map((f): ShardBrokerMovedReport => {
      const m = f.brokerMoved as BrokerMovedReport;
      const by = press(f) - fleetPress;
      return {
        shard: f.shard.index,
        ...m,
        moves: m.moves.map((v) => ({ ...v, atMs: Math.round((v.atMs + by) * 10) / 10 })),
      };
    })
    .sort((a, b) => a.shard - b.shard);
  return moved.length > 0 ? { shardBrokerMoved: moved } : {};
}
