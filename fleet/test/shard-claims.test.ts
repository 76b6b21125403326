/**
 * The shards' claims in the merged report (fleet/shard-claims.ts): each shard's losses of its claim,
 * or its having none, by shard, times moved to the fleet's press start on shard 1's clock; a shard
 * report's `claim` checked as it is read (`report show` of the merge: cli/test/claim-in-report.test.ts).
 */
import { expect, it } from "vitest";
import { mergeShards } from "../shard-merge.js";
import { checkShardFile, type ShardFile, ShardFileError } from "../shard-report.js";
import { fleetOfTwo, claimLost as lost, claimNone as none } from "./ring-of-four.js";

it("names which shard lost its claim and when, on the fleet's clock", () => {
  const [s1, s2] = fleetOfTwo();
  // Shard 2's clock reads 1 s ahead of shard 1's, its presses from 5 s on it: 1 s before shard 1's,
  // so the fleet's presses start with shard 2's, and its times stay as they are.
  expect(mergeShards(["a", "b"], [s1, { ...s2, claim: lost }]).shardClaims).toEqual([{ shard: 2, ...lost }]);
  // Shard 1's are moved by the second its presses began after the fleet's.
  expect(
    mergeShards(
      ["a", "b"],
      [
        { ...s1, claim: lost },
        { ...s2, claim: none },
      ],
    ).shardClaims,
  ).toEqual([
    {
      shard: 1,
      topic: "fleet/claim/two",
      losses: [
        { atMs: 3_000, why: "cleared", heldAgainAfterMs: 300 },
        { atMs: 10_000, why: "connection", untilEndMs: 21_000 },
      ],
    },
    { shard: 2, ...none },
  ]);
  expect(mergeShards(["a", "b"], [s1, s2]).shardClaims).toBeUndefined();
});

it("refuses a shard report whose claim is not whole, naming the field", () => {
  const [s1] = fleetOfTwo();
  const bad = (claim: unknown) => () => checkShardFile("s.json", { ...s1, claim } as unknown as ShardFile);
  expect(bad({ topic: "t" })).toThrow(ShardFileError);
  expect(bad({ topic: "t" })).toThrow(/s\.json: claim must have topic \(a string\) and losses \(an array\)/);
  expect(bad({ topic: "t", losses: [{ atMs: 1, why: "gone" }] })).toThrow(
    /claim\.losses\[0\] must have atMs/,
  );
  expect(bad({ topic: "t", losses: [], held: true })).toThrow(/claim\.held must be false/);
  expect(() => checkShardFile("s.json", { ...s1, claim: lost })).not.toThrow();
});
