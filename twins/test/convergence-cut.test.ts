/**
 * Convergence across a cut, as the service keeps it (the registry's inputs and the incremental
 * report): a node seen offline passes nothing on, so its followers are judged by what can reach them.
 */
import { expect, it } from "vitest";
import { Prefix } from "../../protocol/index.js";
import { IncrementalConvergence } from "../convergence-incremental.js";
import { TwinRegistry } from "../registry.js";

/** A ring r1 ← r2 ← r3 ← r4 ← r1 (each follows the one before), all online and holding (1,r1). */
function ring(): TwinRegistry {
  const r = new TwinRegistry(Prefix("tf"));
  for (let i = 1; i <= 4; i++) {
    const id = `r${i}`;
    r.receive(`tf/config/${id}`, `C1 1 r${((i + 2) % 4) + 1}`, 0, 0, true);
    r.receive(`tf/report/${id}`, "R1 1 1 r1", 0, 0, true);
    r.receive(`tf/status/${id}`, "T1 1", 0, 0, true);
    r.receive(`tf/register/${id}`, "G1 sim uno-w5100 1.0.0", 0, 0);
  }
  return r;
}

const statuses = (r: TwinRegistry, c: IncrementalConvergence) => {
  const { nodes, changed } = r.convergenceChanges();
  const report = c.updateChanged(nodes, changed);
  return { byId: Object.fromEntries(report.followers.map((f) => [f.id, f.status])), inSync: report.inSync };
};

it("judges the stretch past an offline node by what can reach it, from the moment it is seen offline", () => {
  const r = ring();
  const c = new IncrementalConvergence();
  expect(statuses(r, c).inSync).toBe(4);
  // r3 cut off (its will: T1 0); then r2 pressed (2,r2), which r3 cannot take nor pass on to r4.
  r.receive("tf/status/r3", "T1 0", 0, 10);
  expect(statuses(r, c).inSync).toBe(4);
  r.receive("tf/report/r2", "R1 0 2 r2", 0, 20);
  // r4 and r1 hold all that can reach them past r3 (they read behind (2,r2), which cannot reach
  // them); r2's press waits for the cut to heal to come round (it read ahead): all three in sync.
  expect(statuses(r, c).byId).toEqual({ r1: "in-sync", r2: "in-sync", r3: "behind", r4: "in-sync" });
  // r3 back: the cut is gone, and r4 and r1 wait for the press to come round.
  r.receive("tf/status/r3", "T1 1", 0, 30);
  expect(statuses(r, c).byId).toEqual({ r1: "behind", r2: "ahead", r3: "behind", r4: "behind" });
});
