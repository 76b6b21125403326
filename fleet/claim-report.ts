/**
 * The report's `claim` section: each time the run's claim on its ids (fleet/claim-hold.ts) was not
 * held mid-run, why, and how it ended. Told in log lines alone, a loss was gone with the log: someone
 * reading the report afterwards could not know the ids had been unclaimed for a while (a second run
 * could then start on them), nor that another run had claimed them. Times count from the start of
 * the presses, as the report's others; the section is there only when the claim was lost, or when the
 * run went on without one at all (`held: false`, why and how long it waited: before, only a log line
 * said so, and the report looked like that of a run whose claim was held throughout), or when the
 * run gave its claim up, cleared too often (`gaveUp` on its last loss: fleet/claim-clears.ts).
 */
import type { ClaimLoss, ClaimNotHeld, FleetClaim } from "./claim-hold.js";

/** One time the claim was not held. */
export interface ClaimLossReport {
  /** When it was lost, from the start of the presses (negative: in the boot). */
  readonly atMs: number;
  /** `connection`: its connection lost; `cleared`/`replaced`: its retained message, the connection up. */
  readonly why: ClaimLoss["why"];
  /** How long after atMs the claim was held again; absent when it was not. */
  readonly heldAgainAfterMs?: number;
  /** Another run's claim on some of the ids found instead, after `afterMs`: the ids left to it. */
  readonly takenBy?: { readonly topic: string; readonly ids: number; readonly afterMs: number };
  /** Not held again by the run's end, nor taken: unclaimed until then (its end, from the presses' start). */
  readonly untilEndMs?: number;
  /** Not claimed again: cleared `clears` times within `withinMs` (fleet/claim-clears.ts), the run gave it up. */
  readonly gaveUp?: { readonly clears: number; readonly withinMs: number };
}

export interface ClaimReport {
  /** The claim's topic, `<prefix>/claim/<token>`. */
  readonly topic: string;
  readonly losses: readonly ClaimLossReport[];
  /** false: the run went on without a claim at all (no losses then); absent: it held one. */
  readonly held?: false;
  /** Why it had none: the broker never passed it back, or it was cleared before the claim step finished. */
  readonly why?: ClaimNotHeld["why"];
  /** How long the run waited for its claim before it went on without one. */
  readonly waitedMs?: number;
}

/** A time in the report: to a tenth of a millisecond, as its others. */
const ms = (x: number) => Math.round(x * 10) / 10;

/** The report's `claim` field: absent without losses. */
export const claimField = (c: ClaimReport | undefined): { claim?: ClaimReport } => (c ? { claim: c } : {});

/** The claim's losses as the report keeps them; undefined when it was held and never lost (or none was tried). */
export function claimReport(
  claim: Pick<FleetClaim, "topic" | "losses" | "notHeld" | "closedAt"> | undefined,
  pressStartMs: number,
  endMs: number,
): ClaimReport | undefined {
  const no = claim?.notHeld;
  if (claim !== undefined && no !== undefined)
    return { topic: claim.topic, losses: [], held: false, why: no.why, waitedMs: ms(no.waitedMs) };
  const losses = claim?.losses() ?? [];
  if (claim === undefined || losses.length === 0) return undefined;
  // Read once the claim was cleared (a shard's report), a loss not held again lasted until that clear.
  const until = Math.max(endMs, claim.closedAt?.() ?? endMs);
  return {
    topic: claim.topic,
    losses: losses.map((l) => ({
      atMs: ms(l.atMs - pressStartMs),
      why: l.why,
      ...(l.heldAgainMs !== undefined ? { heldAgainAfterMs: ms(l.heldAgainMs) } : {}),
      ...(l.takenBy !== undefined ? { takenBy: { ...l.takenBy, afterMs: ms(l.takenBy.afterMs) } } : {}),
      ...(l.gaveUp !== undefined ? { gaveUp: { ...l.gaveUp, withinMs: ms(l.gaveUp.withinMs) } } : {}),
      ...(l.heldAgainMs === undefined && l.takenBy === undefined
        ? { untilEndMs: ms(until - pressStartMs) }
        : {}),
    })),
  };
}
