/**
 * The report's `claim` section (fleet/claim-report.ts): the times the run's claim on its ids was not
 * held, from the start of the presses, how long until it was held again, the run that took the ids,
 * or none of these (unclaimed until the run's end); absent when the claim was never lost.
 */
import { expect, it } from "vitest";
import type { ClaimLoss } from "../claim-hold.js";
import { claimField, claimReport } from "../claim-report.js";

const claimOf = (losses: ClaimLoss[]) => ({ topic: "tf/claim/abc", losses: () => losses });

it("keeps each loss of the claim, times from the presses' start", () => {
  const losses: ClaimLoss[] = [
    { atMs: 1_000, why: "connection", heldAgainMs: 3_333.33 },
    { atMs: 12_500, why: "cleared", heldAgainMs: 300.04 },
    { atMs: 20_000, why: "replaced", takenBy: { topic: "tf/claim/def", ids: 20, afterMs: 301 } },
    { atMs: 30_000, why: "connection" },
  ];
  expect(claimReport(claimOf(losses), 2_000, 40_000)).toEqual({
    topic: "tf/claim/abc",
    losses: [
      { atMs: -1_000, why: "connection", heldAgainAfterMs: 3_333.3 },
      { atMs: 10_500, why: "cleared", heldAgainAfterMs: 300 },
      { atMs: 18_000, why: "replaced", takenBy: { topic: "tf/claim/def", ids: 20, afterMs: 301 } },
      { atMs: 28_000, why: "connection", untilEndMs: 38_000 },
    ],
  });
});

it("is absent when the claim was never lost, or none was taken", () => {
  expect(claimReport(claimOf([]), 0, 10_000)).toBeUndefined();
  expect(claimReport(undefined, 0, 10_000)).toBeUndefined();
  expect(claimField(undefined)).toEqual({});
});

it("says the run went on without a claim at all, why and how long it waited", () => {
  const claim = { ...claimOf([]), notHeld: { why: "cleared" as const, waitedMs: 10_000.04 } };
  expect(claimReport(claim, 0, 10_000)).toEqual({
    topic: "tf/claim/abc",
    losses: [],
    held: false,
    why: "cleared",
    waitedMs: 10_000,
  });
});

it("keeps a claim given up, cleared too often, as not held again to the end", () => {
  const losses: ClaimLoss[] = [
    { atMs: 3_000, why: "cleared", heldAgainMs: 310 },
    { atMs: 4_000, why: "cleared", gaveUp: { clears: 5, withinMs: 1_234.56 } },
  ];
  expect(claimReport(claimOf(losses), 2_000, 40_000)?.losses).toEqual([
    { atMs: 1_000, why: "cleared", heldAgainAfterMs: 310 },
    { atMs: 2_000, why: "cleared", gaveUp: { clears: 5, withinMs: 1_234.6 }, untilEndMs: 38_000 },
  ]);
});

it("counts a loss not held again until the claim's own clear when the report is read after it", () => {
  const claim = { ...claimOf([{ atMs: 41_000, why: "cleared" }]), closedAt: () => 43_000 };
  expect(claimReport(claim, 2_000, 40_000)?.losses).toEqual([
    { atMs: 39_000, why: "cleared", untilEndMs: 41_000 },
  ]);
});
