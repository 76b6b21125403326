/**
 * Each shard's claim on its ids in the shard reports and the merged report. A shard's claim losses
 * (its connection lost, its claim cleared or replaced on the broker) and a shard that started with no
 * claim at all were told in its log alone: its shard report and `report merge`'s fleet report said
 * nothing, and a fleet report read afterwards could not tell which shard's ids had been unclaimed.
 * A shard report keeps its own `claim` (fleet/claim-report.ts, times from the shard's press start);
 * the merged report keeps every shard's in `shardClaims`, each naming its shard, its times moved to
 * the fleet's press start on shard 1's clock (as its outages).
 */
import type { ClaimReport } from "./claim-report.js";

/** One shard's claim as the merged report keeps it. */
export interface ShardClaimReport extends ClaimReport {
  readonly shard: number;
}

const WHYS = new Set(["connection", "cleared", "replaced"]);
const num = (v: unknown) => typeof v === "number" && Number.isFinite(v);
const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** What is wrong with a shard report's `claim` (absent is fine); undefined when it is whole. */
export function claimProblem(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (!isObj(v) || typeof v.topic !== "string" || !Array.isArray(v.losses))
    return "claim must have topic (a string) and losses (an array)";
  if (v.held !== undefined && (v.held !== false || (v.why !== "cleared" && v.why !== "not-passed-back")))
    return 'claim.held must be false when present, with why "cleared" or "not-passed-back"';
  if (v.waitedMs !== undefined && !num(v.waitedMs)) return "claim.waitedMs must be a number";
  for (const [i, l] of v.losses.entries()) {
    const taken = isObj(l) ? l.takenBy : undefined;
    const gaveUp = isObj(l) ? l.gaveUp : undefined;
    if (
      !isObj(l) ||
      !num(l.atMs) ||
      !WHYS.has(l.why as string) ||
      (l.heldAgainAfterMs !== undefined && !num(l.heldAgainAfterMs)) ||
      (l.untilEndMs !== undefined && !num(l.untilEndMs)) ||
      (taken !== undefined &&
        (!isObj(taken) || typeof taken.topic !== "string" || !num(taken.ids) || !num(taken.afterMs))) ||
      (gaveUp !== undefined && (!isObj(gaveUp) || !num(gaveUp.clears) || !num(gaveUp.withinMs)))
    )
      return `claim.losses[${i}] must have atMs (a number) and why (connection, cleared or replaced), and numbers for its times`;
  }
  return undefined;
}

/** A shard's report as the merge reads it for the claims. */
interface ClaimOf {
  readonly shard: { readonly index: number };
  readonly pressStartMs: number;
  readonly claim?: ClaimReport;
}

/**
 * The merged report's `shardClaims`: each shard's claim that was lost or not held, by shard, its
 * times from the fleet's press start (the earliest shard's, on shard 1's clock through `offsetOf`).
 */
export function mergeShardClaims(
  files: readonly ClaimOf[],
  offsetOf: ReadonlyMap<number, number>,
): { shardClaims?: ShardClaimReport[] } {
  const press = (f: ClaimOf) => f.pressStartMs - (offsetOf.get(f.shard.index) ?? 0);
  const fleetPress = Math.min(...files.map(press));
  const ms = (x: number) => Math.round(x * 10) / 10;
  const claims = files
    .filter((f) => f.claim !== undefined)
    .map((f): ShardClaimReport => {
      const c = f.claim as ClaimReport;
      const by = press(f) - fleetPress;
      return {
        shard: f.shard.index,
        ...c,
        losses: c.losses.map((l) => ({
          ...l,
          atMs: ms(l.atMs + by),
          ...(l.untilEndMs !== undefined ? { untilEndMs: ms(l.untilEndMs + by) } : {}),
        })),
      };
    })
    .sort((a, b) => a.shard - b.shard);
  return claims.length > 0 ? { shardClaims: claims } : {};
}
