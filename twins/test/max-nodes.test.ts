// The registry at --max-nodes: newcomers beyond it dropped as bad input while every twin is needed,
// and the stalest twin nothing needs forgotten to make room for one (twins/forget.ts).
import { describe, expect, it } from "vitest";
import { NodeId, Prefix } from "../../protocol/index.js";
import { TwinRegistry } from "../registry.js";

const A = NodeId("A");

const reasons = (r: TwinRegistry) =>
  Object.fromEntries(Object.entries(r.badInput().byReason).filter(([, n]) => n > 0));

describe("TwinRegistry at maxNodes", () => {
  it("tracks at most maxNodes from the wire: one more is dropped as bad input, the known go on", () => {
    const r = new TwinRegistry(Prefix("tf"), 2);
    r.receive("tf/report/A", "R1 1 1 A", 0, 0);
    r.receive("tf/status/A", "T1 1", 0, 0); // online: needed, not forgotten for room (below)
    r.receive("tf/register/B", "G1 sim uno-w5100 1.0.0", 0, 0);
    for (const [topic, payload] of [
      ["tf/report/C", "R1 1 2 C"],
      ["tf/register/D", "G1 sim uno-w5100 1.0.0"],
      ["tf/config/E", "C1 1 A"],
      ["tf/status/F", "T1 1"],
    ] as const) {
      expect(r.receive(topic, payload, 0, 1)).toEqual([
        {
          type: "bad-input",
          input: {
            reason: "too-many-nodes",
            topic,
            detail: `2 nodes are tracked, the most this service keeps (--max-nodes): ${topic.split("/")[2]} is not added`,
          },
        },
      ]);
    }
    // Malformed input naming an unknown node is counted, but not against it: no per-node entry grows.
    r.receive("tf/report/G", "garbage", 0, 1);
    expect(r.badInputOf(NodeId("G"))).toBe(0);
    r.receive("tf/report/A", "garbage", 0, 1);
    expect(r.badInputOf(A)).toBe(1);
    expect(r.ids()).toEqual(["A", "B"]);
    expect(reasons(r)).toEqual({ "too-many-nodes": 4, "bad-payload": 2 });
    // The known nodes are served as before.
    expect(r.receive("tf/report/A", "R1 0 3 A", 0, 2)).toEqual([
      { type: "updated", node: "A", change: "report" },
    ]);
    expect(r.get(A)?.reported).toEqual({ on: false, stamp: { counter: 3, origin: "A" } });
    // A store restores any number: it is the service's own record, not the wire.
    const restored = new TwinRegistry(Prefix("tf"), 1);
    restored.restore({
      nodes: { A: { sources: [], configVersion: 0 }, B: { sources: [], configVersion: 0 } },
    });
    expect(restored.ids()).toEqual(["A", "B"]);
  });

  it("at maxNodes forgets the twin heard from longest ago that nothing needs, for a node not known", () => {
    const r = new TwinRegistry(Prefix("tf"), 4);
    // Restored from a store: made-up ids that registered once (offline now, nothing desired) …
    r.restore({
      nodes: {
        F1: { sources: [], configVersion: 0, kind: "sim", lastSeen: 500 },
        F2: { sources: [], configVersion: 0, kind: "sim", lastSeen: 100 },
        // … and a node with a pairing desired, and its source: both needed.
        P: { sources: [NodeId("S")], configVersion: 1, lastSeen: 1 },
        S: { sources: [], configVersion: 0, lastSeen: 2 },
      },
    });
    r.convergenceChanges();
    // A real node registers: F2, heard from longest ago, gives way.
    expect(r.receive("tf/register/N1", "G1 real uno-w5100 1.0.0", 0, 1000)).toEqual(
      expect.arrayContaining([{ type: "forgotten", node: "F2" }]),
    );
    expect(r.ids()).toEqual(["F1", "N1", "P", "S"]);
    expect(Object.keys(r.snapshot().nodes).sort()).toEqual(["F1", "N1", "P", "S"]);
    // Positions moved: the next convergence look says so, and has every twin in its new place.
    const look = r.convergenceChanges();
    expect(look.reordered).toBe(true);
    expect(look.nodes.map((n) => n.id)).toEqual(["F1", "P", "S", "N1"]);
    r.receive("tf/status/N1", "T1 1", 0, 1000);
    r.receive("tf/register/N2", "G1 real uno-w5100 1.0.0", 0, 1001);
    r.receive("tf/status/N2", "T1 1", 0, 1001);
    expect(r.ids()).toEqual(["N1", "N2", "P", "S"]);
    // Now every twin is needed (online, paired or a source): the next is refused.
    expect(r.receive("tf/register/N3", "G1 real uno-w5100 1.0.0", 0, 1002)).toMatchObject([
      { type: "bad-input", input: { reason: "too-many-nodes" } },
    ]);
  });
  it("keeps a bad-input count only for a twin: none for an id with no twin, none once it is forgotten", () => {
    const maxNodes = 5;
    const r = new TwinRegistry(Prefix("tf"), maxNodes);
    const counted = () => (r as unknown as { bads: { perNode: Map<string, number> } }).bads.perNode.size;
    // Below the limit, garbage under 1,000 made-up ids makes no twin, and no count against them.
    for (let i = 0; i < 1000; i++) r.receive(`tf/report/x-${i}`, "garbage", 0, i);
    expect(r.size).toBe(0);
    expect(r.badInput().total).toBe(1000);
    expect(counted()).toBe(0);
    // Ids that come once, say something bad and go: forgotten for room, their counts with them.
    for (let i = 0; i < 200; i++) {
      r.receive(`tf/status/m-${i}`, "T1 1", 0, 2000 + i);
      r.receive(`tf/report/m-${i}`, "garbage", 0, 2000 + i);
      expect(r.badInputOf(NodeId(`m-${i}`))).toBe(1);
      r.receive(`tf/status/m-${i}`, "T1 0", 0, 2000 + i);
    }
    expect(r.size).toBe(maxNodes);
    expect(counted()).toBeLessThanOrEqual(maxNodes);
    expect(r.badInputOf(NodeId("m-0"))).toBe(0);
    r.receive("tf/status/m-0", "T1 1", 0, 3000); // back: counted from nothing
    expect(r.badInputOf(NodeId("m-0"))).toBe(0);
  });
});
