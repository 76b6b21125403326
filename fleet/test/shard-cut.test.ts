// A shard cut short (SIGTERM, Ctrl-C) before the end of the presses: the pairs pressed after it
// stopped whose follower it ran are in no figure (they were counted lost for good), its nodes are not
// judged for divergence (their final states are from when it stopped), and the report says which
// shard stopped when.
import { describe, expect, it } from "vitest";
import { mergeShards } from "../shard-merge.js";
import { fleetCutShort, fleetOfTwo, SKEW } from "./ring-of-four.js";

describe("a shard cut short during the presses", () => {
  it("leaves the pairs pressed after it stopped to its nodes out, and its nodes out of divergence", () => {
    const r = mergeShards(["a", "b"], fleetCutShort());
    expect(r.cutShort).toBe(true);
    expect(r.presses).toBe(3);
    // n-0000's press at 40 s: n-0001 and n-0003 (shard 2) had stopped; n-0002 follows n-0001, whose
    // shard was gone: that one is lost, as a chain through a missing shard is. (n-0000 takes n-0001's
    // press of 20 s late, with its own at 40 s.)
    expect(r.lostForGood).toBe(1);
    expect(r.late).toBe(1);
    expect(r.lost).toBe(2);
    expect(r.diverged).toBe(0);
    const line = r.shards.lines.find((l) => l.shard === 2);
    expect(line?.cutShort).toEqual({ afterPressS: 25, unjudgedPairs: 2 });
    expect(line?.lost).toBe(0);
    expect(r.shards.lines.find((l) => l.shard === 1)?.cutShort).toBeUndefined();
  });

  it("one stopped in its settle is marked, and judged as a run cut short in its settle", () => {
    const [s1, s2] = fleetOfTwo();
    const r = mergeShards(["a", "b"], [s1, { ...s2, cutShort: true, pressStartMs: 5000, endMs: 68_000 }]);
    expect(r.shards.lines.find((l) => l.shard === 2)?.cutShort).toEqual({
      afterPressS: 63,
      unjudgedPairs: 0,
    });
  });

  it("none cut short: no field", () => {
    const r = mergeShards(["a", "b"], fleetOfTwo());
    expect(r.shards.lines.every((l) => l.cutShort === undefined)).toBe(true);
  });
});

describe("shards whose presses began apart", () => {
  it("marks a shard whose presses began more than 5 s from shard 1's, on shard 1's clock", () => {
    const [s1, s2] = fleetOfTwo();
    // Shard 2's clock reads 1 s ahead: its presses began 40 s after shard 1's.
    const late = { ...s2, pressStartMs: s1.pressStartMs + SKEW + 40_000 };
    const r = mergeShards(["a", "b"], [s1, late]);
    expect(r.shards.lines.map((l) => l.pressedApartS)).toEqual([undefined, 40]);
    // 4 s apart is together; so is a shard whose clock offset is unknown (no probes crossed).
    const near = mergeShards(["a", "b"], [s1, { ...s2, pressStartMs: s1.pressStartMs + SKEW + 4000 }]);
    expect(near.shards.lines.every((l) => l.pressedApartS === undefined)).toBe(true);
    const blind = { ...late, probes: { everyMs: 500, sent: 0, received: {} } };
    const unknown = mergeShards(["a", "b"], [{ ...s1, probes: blind.probes }, blind]);
    expect(unknown.shards.lines.every((l) => l.pressedApartS === undefined)).toBe(true);
  });
});

describe("a shard cut short before its presses", () => {
  it("is marked so (0 s of presses), and not as pressing apart", () => {
    const [s1, s2] = fleetOfTwo();
    // Stopped 30 s before shard 1's presses began, with its press start at its end.
    const early = {
      ...s2,
      cutShort: true,
      pressStartMs: 1000 + SKEW,
      endMs: 1000 + SKEW,
      presses: [],
      applies: [],
    };
    const r = mergeShards(["a", "b"], [{ ...s1, pressStartMs: 31_000 }, early]);
    const line = r.shards.lines.find((l) => l.shard === 2);
    expect(line?.cutShort?.afterPressS).toBe(0);
    expect(line?.pressedApartS).toBeUndefined();
  });
});
