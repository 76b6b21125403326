/**
 * The registry's convergence inputs, taken only for the twins touched since the last look, give the
 * same report as every twin's current report and followed sources taken afresh, whatever messages
 * came in between (reports, configs, cleared retained messages, presence).
 */
import seedrandom from "seedrandom";
import { describe, expect, it } from "vitest";
import { NodeId, Prefix } from "../../protocol/index.js";
import { type ConvergenceInput, computeConvergence } from "../convergence.js";
import { IncrementalConvergence } from "../convergence-incremental.js";
import { TwinRegistry } from "../registry.js";

const ids = Array.from({ length: 12 }, (_, i) => `n${i}`);

/** Every twin as the registry shows it now: its reported stamp, whom it follows, offline or not. */
function afresh(r: TwinRegistry): ConvergenceInput[] {
  return r.list().map((t) => ({
    id: t.id,
    stamp: t.reported?.stamp,
    sources: t.follows,
    ...(t.presence === "offline" ? { offline: true } : {}),
  }));
}

function randomMessage(rng: () => number): [string, string] {
  const pick = () => ids[Math.floor(rng() * ids.length)] as string;
  const node = pick();
  const r = rng();
  if (r < 0.5) return [`tf/report/${node}`, `R1 ${rng() < 0.5 ? 1 : 0} ${Math.floor(rng() * 6)} ${pick()}`];
  if (r < 0.7) {
    const sources = [...new Set([pick(), pick()].slice(0, 1 + Math.floor(rng() * 2)))].filter(
      (s) => s !== node,
    );
    return [`tf/config/${node}`, `C1 ${1 + Math.floor(rng() * 5)}${sources.map((s) => ` ${s}`).join("")}`];
  }
  if (r < 0.77) return [`tf/report/${node}`, ""];
  if (r < 0.84) return [`tf/config/${node}`, ""];
  if (r < 0.92) return [`tf/status/${node}`, `T1 ${rng() < 0.5 ? 1 : 0}`];
  return [`tf/register/${node}`, "G1 sim uno-w5100 1.0.0"];
}

describe("the registry's convergence inputs", () => {
  for (const seed of ["a", "b", "c", "d"]) {
    it(`give the report of every twin taken afresh (seed ${seed})`, () => {
      const rng = seedrandom.alea(seed);
      const r = new TwinRegistry(Prefix("tf"));
      const inc = new IncrementalConvergence();
      let followers = 0;
      for (let step = 0; step < 300; step++) {
        const burst = 1 + Math.floor(rng() * 6);
        for (let k = 0; k < burst; k++) r.receive(...randomMessage(rng), 0, step);
        const { nodes, changed } = r.convergenceChanges();
        const full = computeConvergence(afresh(r));
        expect(inc.updateChanged(nodes, changed), `step ${step}`).toEqual(full);
        followers += full.followers.length;
      }
      expect(followers).toBeGreaterThan(300);
    });
  }

  it("name a twin whose report is unchanged no more", () => {
    const r = new TwinRegistry(Prefix("tf"));
    r.receive("tf/report/A", "R1 1 5 A", 0, 0);
    r.receive("tf/report/B", "R1 1 5 A", 0, 0);
    expect(r.convergenceChanges().changed).toEqual([0, 1]);
    r.receive("tf/report/B", "R1 1 5 A", 0, 1);
    r.receive("tf/status/A", "T1 1", 0, 1);
    expect(r.convergenceChanges().changed).toEqual([]);
    r.receive("tf/config/B", "C1 1 A", 0, 2);
    const { nodes, changed } = r.convergenceChanges();
    expect(changed).toEqual([1]);
    expect(nodes.map((n) => n.sources)).toEqual([[], [NodeId("A")]]);
  });
});
