/**
 * The incremental convergence (twins/convergence-incremental.ts) gives what the full computation
 * gives, on seeded random fleets and changes, reusing what no change touched.
 */
import seedrandom from "seedrandom";
import { describe, expect, it } from "vitest";
import { NodeId, type Stamp } from "../../protocol/index.js";
import { type ConvergenceInput, computeConvergence } from "../convergence.js";
import { IncrementalConvergence } from "../convergence-incremental.js";

type Rng = () => number;
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)] as T;
const id = (i: number) => NodeId(`n${String(i).padStart(3, "0")}`);

/** A fleet of small components: rings, pairs, chains, lone nodes; some sources name absent ids. */
function randomFleet(rng: Rng, count: number): Map<NodeId, ConvergenceInput> {
  const fleet = new Map<NodeId, ConvergenceInput>();
  let i = 0;
  while (i < count) {
    const shape = pick(rng, ["ring", "pair", "chain", "lone", "star"] as const);
    const size = shape === "pair" ? 2 : shape === "lone" ? 1 : 2 + Math.floor(rng() * 7);
    const ids = Array.from({ length: size }, (_, k) => id(i + k));
    i += size;
    ids.forEach((n, k) => {
      let sources: NodeId[] = [];
      if (shape === "ring") sources = [ids[(k + size - 1) % size] as NodeId];
      if (shape === "pair") sources = [ids[1 - k] as NodeId];
      if (shape === "chain" && k > 0) sources = [ids[k - 1] as NodeId];
      if (shape === "star" && k > 0) sources = [ids[0] as NodeId];
      fleet.set(n, { id: n, stamp: randomStamp(rng, ids), sources });
    });
  }
  return fleet;
}

function randomStamp(rng: Rng, origins: readonly NodeId[]): Stamp | undefined {
  if (rng() < 0.15) return undefined;
  // Few counters and origins, so equal stamps (and ties inside cycles) are common.
  return { counter: Math.floor(rng() * 4), origin: pick(rng, origins) };
}

/** One random change: a report, a config (join, leave, split, follow an absent id), presence, a node added or removed. */
function mutate(rng: Rng, fleet: Map<NodeId, ConvergenceInput>, fresh: () => NodeId): void {
  const ids = [...fleet.keys()];
  const target = pick(rng, ids);
  const node = fleet.get(target);
  if (!node) return;
  const r = rng();
  if (r < 0.5) {
    const origin = pick(rng, [target, ...node.sources]);
    fleet.set(target, { ...node, stamp: randomStamp(rng, [origin]) });
  } else if (r < 0.65) {
    fleet.set(target, { ...node, sources: [pick(rng, ids)] });
  } else if (r < 0.72) {
    fleet.set(target, { ...node, sources: [...node.sources, pick(rng, ids)] });
  } else if (r < 0.8) {
    fleet.set(target, { ...node, sources: node.sources.slice(1) });
  } else if (r < 0.84) {
    fleet.set(target, { ...node, sources: [NodeId(`absent${Math.floor(rng() * 3)}`)] });
  } else if (r < 0.9) {
    const n = rng() < 0.3 ? NodeId(`absent${Math.floor(rng() * 3)}`) : fresh();
    fleet.set(n, { id: n, stamp: randomStamp(rng, [n, target]), sources: rng() < 0.8 ? [target] : [] });
  } else if (r < 0.94) {
    // The node cut off or back: an offline node passes nothing on (its own report only).
    const { offline: _was, ...rest } = node;
    fleet.set(target, node.offline === true ? rest : { ...rest, offline: true });
  } else if (r < 0.96) {
    fleet.delete(target);
  } else {
    // The same report again, as new objects: nothing to recompute, the same answer.
    fleet.set(target, { ...node, sources: [...node.sources] });
  }
}

describe("IncrementalConvergence", () => {
  for (const seed of ["a", "b", "c", "d", "e", "f", "g", "h"]) {
    it(`equals the full computation after every change (seed ${seed})`, () => {
      const rng = seedrandom.alea(seed);
      const fleet = randomFleet(rng, 40 + Math.floor(rng() * 40));
      let nextId = 1000;
      const fresh = () => id(nextId++);
      const inc = new IncrementalConvergence();
      expect(inc.update([...fleet.values()])).toEqual(computeConvergence([...fleet.values()]));
      let changedStatus = 0;
      let before = computeConvergence([...fleet.values()]);
      for (let step = 0; step < 400; step++) {
        const burst = 1 + Math.floor(rng() * 3);
        for (let k = 0; k < burst; k++) mutate(rng, fleet, fresh);
        const input = [...fleet.values()];
        const full = computeConvergence(input);
        expect(inc.update(input), `step ${step}`).toEqual(full);
        if (JSON.stringify(full.followers) !== JSON.stringify(before.followers)) changedStatus++;
        before = full;
      }
      // The sequence exercised real changes, not a fleet that stood still.
      expect(changedStatus).toBeGreaterThan(100);
    });
  }

  for (const seed of ["i", "j", "k"]) {
    it(`equals the full computation when much of the fleet changes between passes (seed ${seed})`, () => {
      const rng = seedrandom.alea(seed);
      const fleet = randomFleet(rng, 40 + Math.floor(rng() * 40));
      let nextId = 1000;
      const fresh = () => id(nextId++);
      const inc = new IncrementalConvergence();
      let wholeFleet = 0;
      for (let step = 0; step < 100; step++) {
        // Bursts from a few changes to more than the fleet's size: both ways of recomputing run.
        const burst = 1 + Math.floor(rng() * fleet.size * 1.5);
        if (burst * 4 > fleet.size) wholeFleet++;
        for (let k = 0; k < burst; k++) mutate(rng, fleet, fresh);
        const input = [...fleet.values()];
        expect(inc.update(input), `step ${step}`).toEqual(computeConvergence(input));
      }
      expect(wholeFleet).toBeGreaterThan(50);
    });
  }

  for (const seed of ["l", "m", "n", "o"]) {
    it(`equals the full computation when told where the input changed (seed ${seed})`, () => {
      const rng = seedrandom.alea(seed);
      const fleet = randomFleet(rng, 40 + Math.floor(rng() * 40));
      let nextId = 1000;
      const fresh = () => id(nextId++);
      const inc = new IncrementalConvergence();
      let prev: ConvergenceInput[] = [];
      let told = 0;
      for (let step = 0; step < 300; step++) {
        const burst = 1 + Math.floor(rng() * (step % 10 === 0 ? fleet.size : 3));
        for (let k = 0; k < burst; k++) mutate(rng, fleet, fresh);
        const input = [...fleet.values()];
        // Only appended to since the last pass: the changed positions, and some unchanged ones.
        const appendedOnly = prev.every((n, i) => input[i]?.id === n.id);
        let report: ReturnType<IncrementalConvergence["update"]>;
        if (appendedOnly) {
          const changed = input.flatMap((n, i) => (n !== prev[i] || rng() < 0.05 ? [i] : []));
          report = inc.updateChanged(input, changed);
          told++;
        } else report = inc.update(input);
        expect(report, `step ${step}`).toEqual(computeConvergence(input));
        prev = input;
      }
      expect(told).toBeGreaterThan(100);
    });
  }

  it("told of fewer changes than were appended, looks at the whole input", () => {
    const s: Stamp = { counter: 1, origin: NodeId("a") };
    const a = { id: NodeId("a"), stamp: s, sources: [NodeId("b")] };
    const b = { id: NodeId("b"), stamp: undefined, sources: [NodeId("a")] };
    const inc = new IncrementalConvergence();
    expect(inc.updateChanged([a], [0])).toEqual(computeConvergence([a]));
    expect(inc.updateChanged([a, b], [])).toEqual(computeConvergence([a, b]));
    const b2 = { ...b, stamp: s };
    expect(inc.updateChanged([a, b2], [1])).toEqual(computeConvergence([a, b2]));
  });

  it("reuses the followers of components no change touched", () => {
    const s = (counter: number, origin: string): Stamp => ({ counter, origin: NodeId(origin) });
    const pairA = [
      { id: NodeId("a1"), stamp: s(1, "a1"), sources: [NodeId("a2")] },
      { id: NodeId("a2"), stamp: s(1, "a1"), sources: [NodeId("a1")] },
    ];
    const pairB = [
      { id: NodeId("b1"), stamp: s(1, "b1"), sources: [NodeId("b2")] },
      { id: NodeId("b2"), stamp: s(1, "b1"), sources: [NodeId("b1")] },
    ];
    const inc = new IncrementalConvergence();
    const first = inc.update([...pairA, ...pairB]);
    const pressed = { ...(pairA[0] as ConvergenceInput), stamp: s(2, "a1") };
    const second = inc.update([pressed, pairA[1] as ConvergenceInput, ...pairB]);
    expect(second.followers.map((f) => f.status)).toEqual(["ahead", "behind", "in-sync", "in-sync"]);
    // The untouched pair's results are the very same objects.
    expect(second.followers[2]).toBe(first.followers[2]);
    expect(second.followers[3]).toBe(first.followers[3]);
    expect(second.followers[0]).not.toBe(first.followers[0]);
  });

  it("handles repeated ids and reordered input as the full computation does", () => {
    const s: Stamp = { counter: 3, origin: NodeId("x") };
    const x = { id: NodeId("x"), stamp: s, sources: [NodeId("y")] };
    const y = { id: NodeId("y"), stamp: s, sources: [NodeId("x")] };
    const yOld = { id: NodeId("y"), stamp: undefined, sources: [NodeId("x")] };
    const inc = new IncrementalConvergence();
    for (const input of [
      [x, y],
      [y, x],
      [x, yOld, y],
      [x, y],
      [y, yOld],
      [x, y],
    ]) {
      expect(inc.update(input)).toEqual(computeConvergence(input));
    }
  });
});
