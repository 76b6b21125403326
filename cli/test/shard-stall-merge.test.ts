// A shard whose own process did not run for a while (SIGSTOP, a paused VM) writes the stall in its
// report (`stalls`), and the merge tells it as that shard's, measured over the nodes it froze, with no
// outage of the broker for the loss its stall explains (docs/shards.md, docs/metrics.md).
import { describe, expect, it } from "vitest";
import { mergeShards } from "../../fleet/shard-merge.js";
import { checkShardFile, type ShardFile } from "../../fleet/shard-report.js";
import { fleetOfTwo } from "../../fleet/test/ring-of-four.js";
import { mergedSummary } from "../commands/report-run.js";

/** Shard 1 stopped from 18 s to 38 s on its clock: its connection to the broker lost and back, its nodes cut by the broker. */
function stalledShardOne(): [ShardFile, ShardFile] {
  const [s1, s2] = fleetOfTwo();
  const stall = {
    startMs: 18_000,
    endMs: 38_000,
    atMs: 13_000,
    durationMs: 20_000,
    brokerLost: true,
    pressesIgnored: 3,
    nodes: 2,
    recoveryMs: 1000,
    disconnected: 2,
    reregisteredMaxMs: 1000,
    offlineDetectedMaxMs: null,
    pressesDuring: 0,
    lateBeyond5s: 0,
    lostForGood: 0,
  };
  return [
    {
      ...s1,
      brokerOutages: [],
      stalls: [stall],
      timeline: {
        disconnects: { "n-0000": [38_100], "n-0002": [38_100] },
        registrations: { "n-0000": [1000, 39_000], "n-0002": [1000, 38_800] },
        offline: {},
      },
    },
    { ...s2, brokerOutages: [] },
  ];
}

describe("a shard's own stall in the merge", () => {
  it("is that shard's stall on shard 1's clock, measured over its nodes, and no outage of the broker", () => {
    const r = mergeShards(["s1.json", "s2.json"], stalledShardOne());
    expect(r.brokerOutages).toBeUndefined();
    expect(r.stalls).toHaveLength(1);
    // Presses begin at shard 2's start (4000 on shard 1's clock). n-0001's press at 20 s never
    // reached n-0000, frozen with shard 1: the stall's, through the nodes it froze.
    expect(r.stalls?.[0]).toMatchObject({
      shard: 1,
      atMs: 14_000,
      durationMs: 20_000,
      brokerLost: true,
      nodes: 2,
      disconnected: 2,
      reregisteredMaxMs: 1000,
      pressesDuring: 0,
      pressesIgnored: 3,
      lostForGood: 1,
    });
    expect(mergedSummary(r)).toContain(
      "stalled        shard 1 did not run for 20.0 s at 14.0 s (its host stopped or paused it): what it saw then is its own stall, not the broker's (its connection to the broker lost and back); 2 nodes disconnected, recovered after ",
    );
  });

  it("a shard report from before the watch merges as one that never stalled", () => {
    const [s1, s2] = fleetOfTwo();
    expect(mergeShards(["s1.json", "s2.json"], [s1, s2]).stalls).toBeUndefined();
  });

  it("refuses a malformed stall, naming the file", () => {
    const [s1] = stalledShardOne();
    expect(() => checkShardFile("s.json", { ...s1, stalls: [{ startMs: 1, endMs: 2 }] })).toThrow(
      /s\.json: stalls\[0\] must have startMs, endMs, pressesIgnored \(numbers\) and brokerLost/,
    );
    expect(() => checkShardFile("s.json", { ...s1, stalls: {} })).toThrow(/s\.json: stalls must be an array/);
    expect(checkShardFile("s.json", JSON.parse(JSON.stringify(s1))).stalls).toHaveLength(1);
  });
});
