/**
 * The shard plan (fleet/shard-plan.ts): the K/N spec, and every shard deriving the same fleet from
 * the seed, each its own slice of it.
 */
import { describe, expect, it } from "vitest";
import type { NodeId } from "../../protocol/index.js";
import { resolveFleetOptions } from "../options.js";
import { planFleet } from "../setup.js";
import {
  fleetFingerprint,
  parseShardSpec,
  plannedPresses,
  ShardSpecError,
  shardOfIndex,
  shardSlice,
} from "../shard-plan.js";

const opts = resolveFleetOptions({
  nodes: 203,
  topology: "ring",
  groupSize: 8,
  seed: "tuesday",
  durationS: 120,
});

describe("the shard spec", () => {
  it("reads K/N with K from 1 to N, and env/N from JOB_COMPLETION_INDEX (0-based)", () => {
    expect(parseShardSpec("1/4")).toEqual({ index: 1, count: 4 });
    expect(parseShardSpec(" 4 / 4 ")).toEqual({ index: 4, count: 4 });
    expect(parseShardSpec("env/4", { JOB_COMPLETION_INDEX: "0" })).toEqual({ index: 1, count: 4 });
    expect(parseShardSpec("env/4", { JOB_COMPLETION_INDEX: "3" })).toEqual({ index: 4, count: 4 });
  });

  it.each([
    ["0/4", /K is "0", not from 1 to 4/],
    ["5/4", /K is "5", not from 1 to 4/],
    ["1.5/4", /K is "1.5"/],
    ["1/0", /N is "0"/],
    ["2", /must be K\/N .* got "2"/],
    ["a/b", /N is "b"/],
    ["1/4/2", /must be K\/N/],
  ])("refuses %j, naming the flag and what is wrong", (raw, msg) => {
    expect(() => parseShardSpec(raw, {})).toThrow(ShardSpecError);
    expect(() => parseShardSpec(raw, {})).toThrow(msg);
    expect(() => parseShardSpec(raw, {})).toThrow(/^--shard: /);
  });

  it("refuses env/N without the variable, or with an index out of range", () => {
    expect(() => parseShardSpec("env/4", {})).toThrow(/reads \$JOB_COMPLETION_INDEX, which is not set/);
    expect(() => parseShardSpec("env/4", { JOB_COMPLETION_INDEX: "4" })).toThrow(/from 0 to 3 .* got "4"/);
    expect(() => parseShardSpec("env/4", { JOB_COMPLETION_INDEX: "x" })).toThrow(/got "x"/);
  });
});

describe("every shard derives the same fleet from the seed", () => {
  const whole = planFleet(opts);

  it("gives shards disjoint slices whose union is the 1-shard fleet, in fleet order", () => {
    for (const n of [1, 2, 3, 4, 7]) {
      const slices = Array.from({ length: n }, (_, k) =>
        shardSlice(planFleet(opts).ids, { index: k + 1, count: n }),
      );
      const union = slices.flat();
      expect(new Set(union).size).toBe(union.length);
      expect([...union].sort()).toEqual([...whole.ids].sort());
      for (const [k, slice] of slices.entries()) {
        for (const id of slice) expect(shardOfIndex(whole.ids.indexOf(id), n)).toBe(k + 1);
        expect(slice).toEqual([...slice].sort());
      }
    }
    expect(shardSlice(whole.ids, { index: 1, count: 1 })).toEqual(whole.ids);
  });

  it("gives every shard the same ids, pairing, fingerprint and presses", () => {
    const fp = fleetFingerprint(whole.ids, whole.pairing, opts);
    for (let k = 1; k <= 4; k++) {
      // What shard k of 4 computes on its own machine from the same options.
      const mine = planFleet(resolveFleetOptions({ ...opts, faults: [] }));
      expect(mine.ids).toEqual(whole.ids);
      expect([...mine.pairing]).toEqual([...whole.pairing]);
      expect(fleetFingerprint(mine.ids, mine.pairing, opts)).toBe(fp);
      for (const id of shardSlice(mine.ids, { index: k, count: 4 })) {
        expect(plannedPresses(opts.seed, id, 1, 120_000)).toEqual(plannedPresses("tuesday", id, 1, 120_000));
      }
    }
    // Another seed or size is another fleet.
    const other = planFleet(resolveFleetOptions({ ...opts, nodes: 204 }));
    expect(fleetFingerprint(other.ids, other.pairing, opts)).not.toBe(fp);
    expect(fleetFingerprint(whole.ids, whole.pairing, { ...opts, seed: "wednesday" })).not.toBe(fp);
    // Another id base is another set of boards: their ids, and another fleet to a merge.
    const boards = planFleet(resolveFleetOptions({ ...opts, faults: [], idBase: "r07" }));
    expect(boards.ids.slice(0, 2)).toEqual(["r07-0000", "r07-0001"]);
    expect(boards.ids.some((id) => whole.ids.includes(id))).toBe(false);
    expect(fleetFingerprint(boards.ids, boards.pairing, opts)).not.toBe(fp);
    // A shard's own settings are not the fleet's: shards on different brokers run one fleet.
    const own = { ...opts, broker: "mqtt://member-2:1883", workers: 3 };
    expect(fleetFingerprint(whole.ids, whole.pairing, own)).toBe(fp);
  });

  it("makes a ring of 8 span shards, so its pairs cross them", () => {
    const crossing = [...whole.pairing].filter(([f, sources]) =>
      sources.some((s) => shardOfIndex(whole.ids.indexOf(s), 4) !== shardOfIndex(whole.ids.indexOf(f), 4)),
    );
    expect(crossing.length).toBe(whole.pairing.size);
  });

  it("draws each node's presses from the seed and its id: about the rate, different per node", () => {
    const [a, b] = whole.ids as readonly [NodeId, NodeId];
    const pa = plannedPresses("tuesday", a, 6, 600_000);
    expect(pa.length).toBeGreaterThan(30);
    expect(pa.length).toBeLessThan(95);
    expect(pa).not.toEqual(plannedPresses("tuesday", b, 6, 600_000));
    expect(pa).not.toEqual(plannedPresses("wednesday", a, 6, 600_000));
  });
});
