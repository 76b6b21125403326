/** Clock offsets between shards (fleet/shard-offsets.ts), from the probes each shard heard. */
import { describe, expect, it } from "vitest";
import { shardOffsets } from "../shard-offsets.js";
import { fleetOfTwo } from "./ring-of-four.js";

describe("clock offsets between shards", () => {
  it("finds shard 2's clock 1000 ms ahead of shard 1's, within half the round trip", () => {
    const [o1, o2] = shardOffsets(fleetOfTwo());
    expect(o1).toMatchObject({ shard: 1, offsetMs: 0, roundTripMs: 4 });
    expect(o2).toMatchObject({
      shard: 2,
      offsetMs: 1000,
      uncertaintyMs: 2,
      roundTripMs: 4,
      probesFrom1: 99,
      probesTo1: 99,
    });
  });

  it("says when no probe crossed both ways (uncertainty unknown)", () => {
    const [s1, s2] = fleetOfTwo();
    const deaf = { ...s1, probes: { ...s1.probes, received: { "1": { count: 3, minDeltaMs: 1 } } } };
    expect(shardOffsets([deaf, s2])[1]).toMatchObject({ offsetMs: 0, uncertaintyMs: null, probesTo1: 0 });
  });
});
