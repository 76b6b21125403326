/**
 * The followers index (twins/follow-graph.ts) holds the nodes that have a follower now, and nothing
 * of a pairing once it is gone: a twins service runs for weeks while fleets are paired, re-paired,
 * retired and forgotten.
 */
import { describe, expect, it } from "vitest";
import { NodeId, Prefix } from "../../protocol/index.js";
import { FollowGraph } from "../follow-graph.js";
import { TwinRegistry } from "../registry.js";
import { followed, newRecord, type TwinRecord } from "../twin-record.js";

/** `t` now follows `sources` (its config as heard), the index kept in step. */
function follows(graph: FollowGraph, t: TwinRecord, sources: NodeId[]): void {
  const before = followed(t);
  t.config = { version: (t.config?.version ?? 0) + 1, sources };
  graph.refollow(t, before);
}

describe("FollowGraph", () => {
  it("keeps no source a follower left, even one that is no twin", () => {
    const twins = new Map<NodeId, TwinRecord>();
    const graph = new FollowGraph(twins);
    const f = newRecord(NodeId("f"));
    twins.set(f.id, f);
    // Re-paired 1,000 times, each time with sources that never registered (in another shard, paired
    // before their first boot).
    for (let i = 0; i < 1000; i++) follows(graph, f, [NodeId(`s-${i}`), NodeId(`s-${i + 1}`)]);
    expect(graph.indexed).toBe(2);
    expect(graph.followers(NodeId("s-1000"))).toEqual(["f"]);
    follows(graph, f, []);
    expect(graph.indexed).toBe(0);
  });

  it("holds nothing of 1,000 retired followers of sources it never saw", () => {
    const r = new TwinRegistry(Prefix("tf"));
    const graph = (r as unknown as { graph: FollowGraph }).graph;
    for (let i = 0; i < 1000; i++) {
      r.receive(`tf/config/f-${i}`, `C1 1 gone-${i}`, 0, i, true);
      r.receive(`tf/status/f-${i}`, "T1 0", 0, i, true);
    }
    expect(graph.indexed).toBe(1000);
    for (let i = 0; i < 1000; i++) expect(r.retire(NodeId(`f-${i}`))).toBeDefined();
    expect(r.size).toBe(0);
    expect(graph.indexed).toBe(0);
  });
});
