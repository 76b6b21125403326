// A sharded fleet beside a twins service too small for it: each shard's report says which of its nodes
// the service holds (`held`), and the merge sums them into `joinedTwins.held`, judged as a one-process
// run's (fleet/shard-held.ts). Before, the merge dropped them: all ok, exit 0.
import { describe, expect, it } from "vitest";
import type { HeldReport } from "../../fleet/joined-held.js";
import { requirementFailures } from "../../fleet/report.js";
import { mergeShards } from "../../fleet/shard-merge.js";
import { checkShardFile, type ShardFile, ShardFileError } from "../../fleet/shard-report.js";
import { fleetOfTwo } from "../../fleet/test/ring-of-four.js";
import { summary } from "../sim-summary.js";

const held = (clientId: string, notHeldIds: string[], twins = 2): HeldReport => ({
  clientId,
  asked: 2,
  answered: 2,
  notHeld: notHeldIds.length,
  notHeldIds,
  maxNodes: 2,
  twins,
});
const withHeld = (s: ShardFile, h: HeldReport | undefined): ShardFile => ({
  ...s,
  ...(h ? { held: h } : {}),
});

describe("merging what the twins service on the broker held of each shard's nodes", () => {
  it("sums the shards' answers and fails the merged summary and --assert as a one-process run", () => {
    const [s1, s2] = fleetOfTwo();
    const r = mergeShards(
      ["a", "b"],
      [
        withHeld(s1, held("ctl-a", ["n-0002"])),
        withHeld({ ...s2, endMs: s2.endMs + 1 }, held("ctl-a", ["n-0003"], 3)),
      ],
    );
    expect(r.joinedTwins?.held).toEqual({
      clientId: "ctl-a",
      asked: 4,
      answered: 4,
      notHeld: 2,
      notHeldIds: ["n-0002", "n-0003"],
      maxNodes: 2,
      twins: 3, // the latest answer's
    });
    const line =
      "2 of the fleet's 4 nodes have no twin in the twins service ctl-a, which keeps at most 2 twins (--max-nodes 2) and holds 3: n-0002, n-0003 are neither shown nor controlled by it";
    expect(summary(r)).toContain(`  FAIL twins hold     ${line}`);
    expect(requirementFailures(r)).toContain(line);
  });

  it("names each controller when the shards asked different ones", () => {
    const [s1, s2] = fleetOfTwo();
    const r = mergeShards(
      ["a", "b"],
      [withHeld(s1, held("ctl-a", [])), withHeld(s2, held("ctl-b", ["n-0003"]))],
    );
    expect(r.joinedTwins?.held?.clientId).toBe("ctl-a (shard 1) and ctl-b (shard 2)");
    expect(summary(r)).toContain(
      "1 of the fleet's 4 nodes have no twin in the twins service ctl-a (shard 1) and ctl-b (shard 2)",
    );
  });

  it("merges shard reports from before the field, or from shards with no service to ask, saying nothing", () => {
    const [s1, s2] = fleetOfTwo();
    const r = mergeShards(["a", "b"], [s1, s2]);
    expect(r.joinedTwins).toBeUndefined();
    expect(summary(r)).not.toMatch(/twins hold/);
    expect(requirementFailures(r).filter((f) => f.includes("no twin"))).toEqual([]);
  });

  it("counts the nodes of a shard that asked nothing, beside one that asked, as unknown, not as outside the fleet", () => {
    const [s1, s2] = fleetOfTwo();
    const r = mergeShards(["a", "b"], [withHeld(s1, held("ctl-a", ["n-0002"])), s2]);
    expect(r.joinedTwins?.held).toMatchObject({ asked: 4, answered: 2, notHeld: 1, unasked: [2] });
    expect(summary(r)).toContain(
      "  FAIL twins hold     1 of the fleet's 4 nodes have no twin in the twins service ctl-a, which keeps at most 2 twins (--max-nodes 2) and holds 2: n-0002 are neither shown nor controlled by it",
    );
    expect(summary(r)).toContain(
      "       twins hold     unknown for 2 of 4 nodes: shard 2 asked the twins service ctl-a nothing (a build from before the question, or no twins service on the broker when it ended)",
    );
  });

  it("refuses a shard report whose held is malformed, naming the file and the field", () => {
    const [s1] = fleetOfTwo();
    const json = (s: ShardFile) => JSON.parse(JSON.stringify(s)) as unknown;
    expect(() => checkShardFile("s1.json", json(s1))).not.toThrow();
    expect(() => checkShardFile("s1.json", json(withHeld(s1, held("ctl-a", ["n-0002"]))))).not.toThrow();
    for (const bad of [
      5,
      { ...held("ctl-a", []), notHeld: "2" },
      { ...held("ctl-a", []), notHeldIds: [1] },
    ]) {
      expect(() => checkShardFile("s1.json", { ...(json(s1) as object), held: bad })).toThrow(ShardFileError);
      expect(() => checkShardFile("s1.json", { ...(json(s1) as object), held: bad })).toThrow(
        /s1\.json: held must have/,
      );
    }
  });
});
