// Where a virtual fleet may be cut into parts over threads: between groups only, near equal sizes.
import { describe, expect, it } from "vitest";
import { buildPairing, fleetIds } from "../../sim/topology.js";
import { splitFleet } from "../virtual-split.js";

describe("splitFleet", () => {
  const ids = fleetIds(40);
  it("cuts rings and chains between their groups, near equal parts", () => {
    const ring = buildPairing(ids, { kind: "ring", groupSize: 8 });
    // 20 lies between two cuts: the earlier one.
    expect(splitFleet(ids, ring, 2)).toEqual([
      [0, 16],
      [16, 40],
    ]);
    expect(splitFleet(ids, ring, 4)).toEqual([
      [0, 8],
      [8, 16],
      [16, 32],
      [32, 40],
    ]);
    const chain = buildPairing(ids, { kind: "chain", groupSize: 10 });
    expect(splitFleet(ids, chain, 4)).toEqual([
      [0, 10],
      [10, 20],
      [20, 30],
      [30, 40],
    ]);
  });

  it("gives fewer parts than asked when the groups are fewer, one when the fleet is one group", () => {
    const star = buildPairing(ids, { kind: "star", groupSize: 20 });
    expect(splitFleet(ids, star, 4)).toEqual([
      [0, 20],
      [20, 40],
    ]);
    const whole = buildPairing(ids, { kind: "ring", groupSize: 40 });
    expect(splitFleet(ids, whole, 4)).toEqual([[0, 40]]);
    expect(splitFleet(ids, new Map(), 3)).toEqual([
      [0, 13],
      [13, 27],
      [27, 40],
    ]);
  });

  it("never cuts a pair of a pairing that spans the fleet's order", () => {
    const across = new Map([[ids[1] as never, [ids[30] as never]]]);
    for (const [from, to] of splitFleet(ids, across, 4))
      expect(from >= 31 || to <= 1 || (from <= 1 && to >= 31)).toBe(true);
  });
});
