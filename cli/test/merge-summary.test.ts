// The CUT SHORT line of a merged report names the shards cut short and when (a one-process run's
// line, "the settle was stopped", described no merged run: the other shards did finish theirs).
import { describe, expect, it } from "vitest";
import { mergeShards } from "../../fleet/shard-merge.js";
import { fleetCutShort, fleetOfTwo } from "../../fleet/test/ring-of-four.js";
import { summary } from "../sim-summary.js";

describe("the summary of a merged report with a shard cut short", () => {
  it("names the shard stopped during the presses, when, and the pairs left out", () => {
    const s = summary(mergeShards(["a", "b"], fleetCutShort()));
    expect(s).toContain(
      "CUT SHORT      shard 2 stopped 25.0 s into the 60 s of presses: the 2 pairs pressed later to its nodes are in no figure",
    );
    expect(s).not.toContain("the settle was stopped");
  });

  it("names a shard stopped in its settle", () => {
    const [s1, s2] = fleetOfTwo();
    const r = mergeShards(["a", "b"], [s1, { ...s2, cutShort: true, pressStartMs: 5000, endMs: 68_000 }]);
    expect(summary(r)).toContain("shard 2 stopped in its settle, 3.0 s after the presses");
  });

  it("names a shard stopped before its presses began", () => {
    const [s1, s2] = fleetOfTwo();
    const early = { ...s2, cutShort: true, pressStartMs: 2000, endMs: 2000, presses: [], applies: [] };
    expect(summary(mergeShards(["a", "b"], [s1, early]))).toContain(
      "CUT SHORT      shard 2 stopped before its presses began: its nodes and the 2 pairs pressed to them are in no figure",
    );
  });

  it("leaves a one-process run's line as it was", () => {
    const r = mergeShards(["a", "b"], fleetOfTwo());
    expect(summary({ ...r, cutShort: true, shards: undefined } as never)).toContain(
      "CUT SHORT      the settle was stopped after 10.0 s",
    );
  });
});
