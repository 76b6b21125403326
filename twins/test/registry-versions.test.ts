// A twin's version: moved on every change the twin shows (a follower coming or going, or retired,
// included) and on nothing else, so a set sent with the version shown is refused only when the twin
// really changed meanwhile.
import { describe, expect, it } from "vitest";
import { NodeId, Prefix } from "../../protocol/index.js";
import { TwinRegistry } from "../registry.js";

const A = NodeId("A");
const B = NodeId("B");

describe("TwinRegistry versions", () => {
  it("moves a twin's version on every change it shows, and not on what changes nothing", () => {
    const r = new TwinRegistry(Prefix("tf"));
    const v = (id: NodeId) => r.get(id)?.version ?? -1;
    r.receive("tf/register/A", "G1 sim uno-w5100 1.0.0", 0, 10);
    expect(v(A)).toBe(1);
    expect(r.get(A)?.registeredAt).toBe(10);
    r.receive("tf/register/A", "G1 sim uno-w5100 1.0.0", 0, 20);
    expect(r.get(A)?.registeredAt).toBe(10);
    const afterRegister = v(A);
    r.receive("tf/report/A", "R1 1 3 A", 0, 30);
    expect(v(A)).toBe(afterRegister + 1);
    r.receive("tf/report/A", "R1 1 3 A", 0, 31); // the same stamp again: nothing shown changes
    r.receive("tf/report/A", "R1 0 2 A", 0, 32); // older: bad input, nothing shown changes
    expect(v(A)).toBe(afterRegister + 1);
    r.receive("tf/status/A", "T1 0", 0, 40);
    expect(v(A)).toBe(afterRegister + 2);
    r.setSent(A, true, 4);
    expect(v(A)).toBe(afterRegister + 3);
  });

  it("moves a source's version when a follower comes or goes (its followers changed)", () => {
    const r = new TwinRegistry(Prefix("tf"));
    r.receive("tf/register/B", "G1 sim uno-w5100 1.0.0", 0, 0);
    const before = r.get(B)?.version ?? -1;
    // Told as B's change too, so the service's twin-updated carries B's new version to the view and
    // the web's event stream (the version alone moved: the list showed B at its old one).
    const came = { type: "updated", node: B, change: "followers" };
    expect(r.receive("tf/config/A", "C1 1 B", 0, 1)).toContainEqual(came);
    expect(r.get(B)?.followers).toEqual(["A"]);
    expect(r.get(B)?.version).toBe(before + 1);
    expect(r.receive("tf/config/A", "C1 2", 0, 2)).toContainEqual(came);
    expect(r.get(B)?.followers).toEqual([]);
    expect(r.get(B)?.version).toBe(before + 2);
    // The same sources again: no follower came or went.
    expect(r.receive("tf/config/A", "C1 3", 0, 3)).not.toContainEqual(came);
    expect(r.get(B)?.version).toBe(before + 2);
    // A cleared config: A follows nobody now.
    r.receive("tf/config/A", "C1 4 B", 0, 4);
    expect(r.receive("tf/config/A", "", 0, 5)).toContainEqual(came);
    expect(r.get(B)?.followers).toEqual([]);
    expect(r.get(B)?.version).toBe(before + 4);
  });

  it("moves a source's version when a follower is retired (it left the source's followers)", () => {
    const r = new TwinRegistry(Prefix("tf"));
    r.receive("tf/register/B", "G1 sim uno-w5100 1.0.0", 0, 0);
    r.receive("tf/config/A", "C1 1 B", 0, 1);
    const before = r.get(B)?.version ?? -1;
    expect(r.retire(A)).toEqual([
      { type: "forgotten", node: A, retired: true },
      { type: "updated", node: B, change: "followers" },
    ]);
    expect(r.get(B)?.followers).toEqual([]);
    expect(r.get(B)?.version).toBe(before + 1);
    expect(r.retire(A)).toBeUndefined();
  });

  it("lists a source's followers sorted, one list while they stay the same", () => {
    const r = new TwinRegistry(Prefix("tf"));
    r.receive("tf/register/B", "G1 sim uno-w5100 1.0.0", 0, 0);
    for (const f of ["D", "A", "C"]) r.receive(`tf/config/${f}`, "C1 1 B", 0, 0);
    const first = r.get(B)?.followers;
    expect(first).toEqual(["A", "C", "D"]);
    r.receive("tf/report/B", "R1 1 5 B", 0, 1);
    expect(r.get(B)?.followers).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    r.receive("tf/config/C", "C1 2", 0, 2);
    expect(r.get(B)?.followers).toEqual(["A", "D"]);
    expect(first).toEqual(["A", "C", "D"]);
  });
});
