/**
 * A shard's outage whose cause was the broker refusing the shard's login (revoked mid-run) keeps that
 * cause in the merge, joined with the other shards' view of the same outage: the merged report and
 * summary said only that the broker was lost, as if it had died.
 */
import { expect, it } from "vitest";
import { joinOutages } from "../shard-outages.js";
import type { ShardFile } from "../shard-report.js";

const file = (index: number, outage: Record<string, unknown>) =>
  ({ shard: { index }, brokerOutages: [outage] }) as unknown as ShardFile;

it("keeps a shard's refused login as the cause of the outage the shards saw together", () => {
  const files = [
    file(1, { startMs: 1000, endMs: 9000, back: true }),
    file(2, { startMs: 1200, endMs: 9100, back: true, refused: "bad user name or password" }),
  ];
  expect(joinOutages(files, new Map())).toEqual([
    { startMs: 1000, endMs: 9100, back: true, refused: "bad user name or password", shards: [1, 2] },
  ]);
  expect(joinOutages([files[0] as ShardFile], new Map())).toEqual([
    { startMs: 1000, endMs: 9000, back: true, shards: [1] },
  ]);
});
