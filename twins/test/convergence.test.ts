/**
 * The convergence of a fleet's pairings (twins/convergence.ts) on chains, rings, cycles and
 * conflicting sources.
 */
import { describe, expect, it } from "vitest";
import { NodeId, type Stamp } from "../../protocol/index.js";
import { type ConvergenceInput, computeConvergence } from "../convergence.js";

const st = (counter: number, origin: string): Stamp => ({ counter, origin: NodeId(origin) });
const node = (id: string, stamp: Stamp | undefined, ...sources: string[]): ConvergenceInput => ({
  id: NodeId(id),
  stamp,
  sources: sources.map(NodeId),
});
const statuses = (nodes: ConvergenceInput[]) =>
  Object.fromEntries(computeConvergence(nodes).followers.map((f) => [f.id, f.status]));

describe("computeConvergence", () => {
  it("chain C → A → B: a press on B is in sync only once it reached both hops", () => {
    // B pressed (5,B); A has it, C does not yet.
    const nodes = [node("B", st(5, "B")), node("A", st(5, "B"), "B"), node("C", st(2, "C"), "A")];
    const r = computeConvergence(nodes);
    expect(statuses(nodes)).toEqual({ A: "in-sync", C: "behind" });
    expect(r.followers.find((f) => f.id === "C")).toMatchObject({ target: st(5, "B"), waitingOn: ["A"] });
    expect(r).toMatchObject({ inSync: 1, known: 2, fraction: 0.5 });
  });

  it("chain: the far follower is behind even when its direct source is not newer yet", () => {
    // B pressed, A has not applied it: C is behind B transitively, though not waiting on A.
    const nodes = [node("B", st(5, "B")), node("A", st(1, "B"), "B"), node("C", st(1, "B"), "A")];
    const r = computeConvergence(nodes);
    expect(statuses(nodes)).toEqual({ A: "behind", C: "behind" });
    expect(r.followers.find((f) => f.id === "C")?.waitingOn).toEqual([]);
    expect(r.fraction).toBe(0);
  });

  it("ring of four: converged when every member holds the newest stamp", () => {
    const s = st(9, "c");
    const ring = [node("a", s, "d"), node("b", s, "a"), node("c", s, "b"), node("d", s, "c")];
    expect(computeConvergence(ring)).toMatchObject({ inSync: 4, known: 4, fraction: 1 });
  });

  it("ring of four: a press in flight leaves exactly the members it has not reached behind", () => {
    // c pressed (9,c); d (follows c) has it, a (follows d) has it, b (follows a) not yet.
    const ring = [
      node("a", st(9, "c"), "d"),
      node("b", st(4, "a"), "a"),
      node("c", st(9, "c"), "b"),
      node("d", st(9, "c"), "c"),
    ];
    expect(statuses(ring)).toEqual({ a: "in-sync", b: "behind", c: "in-sync", d: "in-sync" });
  });

  it("two-node cycle: the origin of the newest stamp excludes itself and compares with the other", () => {
    // A pressed (3,A) and B has not applied it yet: A is ahead of its only upstream, B behind.
    expect(statuses([node("A", st(3, "A"), "B"), node("B", st(2, "B"), "A")])).toEqual({
      A: "ahead",
      B: "behind",
    });
    expect(statuses([node("A", st(3, "A"), "B"), node("B", st(3, "A"), "A")])).toEqual({
      A: "in-sync",
      B: "in-sync",
    });
  });

  it("cycle fed by a chain: everything downstream of the cycle waits for the cycle's newest stamp", () => {
    // X follows the cycle {P,Q}; the cycle follows R. R pressed (7,R), reached P only.
    const nodes = [
      node("R", st(7, "R")),
      node("P", st(7, "R"), "Q", "R"),
      node("Q", st(3, "Q"), "P"),
      node("X", st(3, "Q"), "Q"),
    ];
    expect(statuses(nodes)).toEqual({ P: "in-sync", Q: "behind", X: "behind" });
  });

  it("conflict: a follower that pressed more often than its source saw is ahead, not in sync", () => {
    // A follows B. A pressed five times (5,A); B pressed once (1,B), which A dropped as stale.
    const nodes = [node("B", st(1, "B")), node("A", st(5, "A"), "B")];
    const r = computeConvergence(nodes);
    expect(statuses(nodes)).toEqual({ A: "ahead" });
    expect(r.fraction).toBe(0);
  });

  it("conflict between two sources: the newest by counter then id wins, equal counters by id", () => {
    const sources = [node("B", st(4, "B")), node("C", st(4, "C"))];
    expect(statuses([...sources, node("A", st(4, "C"), "B", "C")])).toEqual({ A: "in-sync" });
    expect(statuses([...sources, node("A", st(4, "B"), "B", "C")])).toEqual({ A: "behind" });
  });

  it("unknown stamps are left out of the fraction; a fleet without followers is in sync", () => {
    const nodes = [node("B", undefined), node("A", st(1, "A"), "B"), node("C", undefined, "A")];
    const r = computeConvergence(nodes);
    expect(statuses(nodes)).toEqual({ A: "unknown", C: "unknown" });
    expect(r).toMatchObject({ inSync: 0, known: 0, fraction: 1 });
    expect(computeConvergence([node("solo", st(1, "solo"))]).followers).toEqual([]);
  });

  it("ring of 8 with two members cut off: each reachable stretch is judged by what can reach it", () => {
    // r1 … r8, each following the one before (r1 follows r8); r3 and r6 offline since (1,r1). Then
    // r4 pressed (2,r4), reaching r5 and stopping at r6; r7 pressed (3,r7), reaching r8, r1 and r2
    // and stopping at r3. Nothing newer than what r3 and r6 held can pass them, so every reachable
    // member holds all it can have: the stretch behind a cut was read as behind, as was the
    // stretch with the older press, and with a press in each stretch, no follower read in sync.
    const s1 = st(1, "r1");
    const s2 = st(2, "r4");
    const s3 = st(3, "r7");
    const held = { r1: s3, r2: s3, r3: s1, r4: s2, r5: s2, r6: s1, r7: s3, r8: s3 } as const;
    const ring = (cut: boolean) =>
      Object.entries(held).map(([id, stamp], i) => ({
        ...node(id, stamp, `r${((i + 7) % 8) + 1}`),
        ...(cut && (id === "r3" || id === "r6") ? { offline: true } : {}),
      }));
    expect(statuses(ring(true))).toEqual({
      r1: "in-sync",
      r2: "in-sync",
      r3: "behind", // cut off, as last heard: r2 holds (3,r7), which it will get when back
      r4: "in-sync",
      r5: "in-sync",
      r6: "behind",
      r7: "in-sync",
      r8: "in-sync",
    });
    expect(computeConvergence(ring(true))).toMatchObject({ inSync: 6, known: 8 });
    // Everyone online (the cut healed, the presses not passed on yet): the ring is behind (3,r7).
    expect(computeConvergence(ring(false))).toMatchObject({ inSync: 4, known: 8 });
    // A press newer than anything in the ring, on its way to r5: r4 is ahead of what can reach it,
    // on the ring the cut broke; the press comes round once the cut heals. Whole, r4 is ahead.
    const lone = (cut: boolean) => ring(cut).map((n) => (n.id === "r4" ? { ...n, stamp: st(4, "r4") } : n));
    expect(statuses(lone(true))).toMatchObject({ r4: "in-sync", r5: "behind" });
    expect(statuses(lone(false))).toMatchObject({ r4: "ahead", r5: "behind" });
    const r5 = computeConvergence(lone(true)).followers.find((f) => f.id === "r5");
    expect(r5).toMatchObject({ target: st(4, "r4"), waitingOn: ["r4"] });
  });

  it("an offline source passes on its own last report, not what came upstream of it since", () => {
    // C follows A follows B; B pressed (5,B) after A was cut off holding (1,B).
    const nodes = (offline: boolean) => [
      node("B", st(5, "B")),
      { ...node("A", st(1, "B"), "B"), ...(offline ? { offline } : {}) },
      node("C", st(1, "B"), "A"),
    ];
    expect(statuses(nodes(true))).toEqual({ A: "behind", C: "in-sync" });
    expect(statuses(nodes(false))).toEqual({ A: "behind", C: "behind" });
    // An offline source newer than its follower: the follower had it before the cut, and is behind.
    const newer = [node("A", st(2, "A"), "B"), { ...node("B", st(7, "B")), offline: true }];
    expect(statuses(newer)).toEqual({ A: "behind" });
    // On no cycle, a follower newer than its offline source is the protocol's conflict still: ahead.
    const conflict = [node("A", st(9, "A"), "B"), { ...node("B", st(7, "B")), offline: true }];
    expect(statuses(conflict)).toEqual({ A: "ahead" });
  });

  it("handles a chain longer than the call stack would allow", () => {
    const n = 20_000;
    const s = st(1, "n0");
    const chain = Array.from({ length: n }, (_, i) =>
      i === 0 ? node("n0", s) : node(`n${i}`, s, `n${i - 1}`),
    );
    expect(computeConvergence(chain)).toMatchObject({ inSync: n - 1, known: n - 1 });
  });
});
