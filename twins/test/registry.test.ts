import { describe, expect, it } from "vitest";
import { NodeId, Prefix } from "../../protocol/index.js";
import { TwinRegistry } from "../registry.js";

const A = NodeId("A");
const B = NodeId("B");

function fresh(): TwinRegistry {
  const r = new TwinRegistry(Prefix("tf"));
  r.receive("tf/config/A", "C1 1 B", 0, 0);
  r.receive("tf/report/B", "R1 1 5 B", 0, 0);
  r.receive("tf/report/A", "R1 1 5 B", 0, 0);
  r.receive("tf/status/A", "T1 1", 0, 0);
  r.receive("tf/register/A", "G1 sim uno-w5100 1.0.0", 0, 0);
  return r;
}

const reasons = (r: TwinRegistry) =>
  Object.fromEntries(Object.entries(r.badInput().byReason).filter(([, n]) => n > 0));

describe("TwinRegistry", () => {
  it("builds a twin from register, report, config and status", () => {
    const r = fresh();
    expect(r.get(A)).toMatchObject({
      kind: "sim",
      profile: "uno-w5100",
      firmware: "1.0.0",
      presence: "online",
      reported: { on: true, stamp: { counter: 5, origin: "B" } },
      config: { version: 1, sources: ["B"] },
      desired: { sources: ["B"], configVersion: 1 },
      follows: ["B"],
      pairingInSync: true,
    });
    expect(r.get(B)?.followers).toEqual(["A"]);
    expect(r.maxCounter).toBe(5);
    expect(r.receive("tf/status/A", "T1 0", 0, 1)).toEqual([{ type: "offline", node: "A" }]);
  });

  it("counts malformed topics, ids, payloads and versions with the node id, without changing state", () => {
    const r = fresh();
    const before = r.get(A);
    const cases: [string, string, string][] = [
      ["tf/report/A", "R1 1 x A", "bad-payload"],
      ["tf/report/A", "R2 1 9 A", "wrong-version"],
      ["tf/report/A", "X1 1 9 A", "bad-payload"],
      ["tf/register/A", "G1 robot uno-w5100 1.0.0", "bad-payload"],
      ["tf/register/A", "G1", "bad-payload"],
      ["tf/report/bad!id", "R1 1 9 A", "bad-id"],
      ["tf/teleport/A", "R1 1 9 A", "bad-topic"],
      ["other/report/A", "R1 1 9 A", "bad-topic"],
      ["tf/report/A", `R1 1 9 ${"x".repeat(300)}`, "too-long"],
      ["tf/state/A", "S1 1 9", "unexpected-kind"],
    ];
    for (const [topic, payload, reason] of cases) {
      const effects = r.receive(topic, payload, 0, 1);
      expect(effects, `${topic} ${payload}`).toMatchObject([{ type: "bad-input", input: { reason } }]);
    }
    expect(r.badInput().total).toBe(cases.length);
    // The bad id, the foreign prefix and the unknown action name no node.
    expect(r.badInputOf(A)).toBe(cases.length - 3);
    expect(r.get(A)).toEqual(before);
  });

  it("never lets an older report or config replace a newer one", () => {
    const r = fresh();
    expect(r.receive("tf/report/A", "R1 0 3 A", 0, 1)).toMatchObject([
      { type: "bad-input", input: { reason: "stale-report", node: "A" } },
    ]);
    expect(r.receive("tf/config/A", "C1 0", 0, 1)).toMatchObject([
      { type: "bad-input", input: { reason: "stale-config", node: "A" } },
    ]);
    expect(r.get(A)).toMatchObject({ reported: { on: true, stamp: { counter: 5 } }, follows: ["B"] });
    // An equal stamp is the answer to a query: not bad, not a change.
    expect(r.receive("tf/report/A", "R1 1 5 B", 0, 1)).toEqual([]);
  });

  it("counts a report whose origin cannot be upstream of the node, and keeps the state", () => {
    const r = fresh();
    r.receive("tf/report/Z", "R1 0 1 Z", 0, 0);
    expect(r.receive("tf/report/A", "R1 0 99 Z", 0, 1)).toMatchObject([
      { type: "bad-input", input: { reason: "spoofed-origin", node: "A" } },
    ]);
    expect(r.get(A)?.reported?.stamp).toEqual({ counter: 5, origin: "B" });
    expect(r.maxCounter).toBe(5); // a spoofed counter does not inflate later set commands
    // Transitively upstream is fine: A follows B, B follows C.
    r.receive("tf/config/B", "C1 1 C", 0, 2);
    expect(r.receive("tf/report/A", "R1 0 7 C", 0, 2)).toMatchObject([{ type: "updated", node: "A" }]);
    // A stamp another twin already holds is a real event, even from a pairing no longer in force.
    r.receive("tf/report/Y", "R1 1 8 Y", 0, 3);
    r.receive("tf/report/B", "R1 1 8 Y", 0, 3);
    expect(r.badInput().byReason["spoofed-origin"]).toBe(1);
  });

  it("counts a second identity under one id while online, and adopts the newest", () => {
    const r = fresh();
    expect(r.receive("tf/register/A", "G1 real uno-w5100 1.0.0", 0, 1)).toMatchObject([
      { type: "bad-input", input: { reason: "identity-conflict", node: "A" } },
      { type: "registered", node: "A", first: false },
      { type: "desired-changed" },
    ]);
    // After going offline, a new identity (a firmware update) is not a conflict.
    r.receive("tf/status/A", "T1 0", 0, 2);
    r.receive("tf/status/A", "T1 1", 0, 3);
    r.receive("tf/register/A", "G1 real uno-w5100 1.1.0", 0, 3);
    expect(reasons(r)).toEqual({ "identity-conflict": 1 });
    expect(r.get(A)).toMatchObject({ kind: "real", firmware: "1.1.0" });
  });

  it("adopts a newer config made elsewhere as the desire, but not its own commands in flight", () => {
    const r = fresh();
    r.setDesiredSources(A, [], 3); // unpair sent: the node will reach version 3
    r.receive("tf/config/A", "C1 2 B C", 0, 1); // an intermediate config of ours
    expect(r.get(A)?.desired).toMatchObject({ sources: [], configVersion: 3 });
    r.receive("tf/config/A", "C1 4 C", 0, 2); // a newer one, from another control tool
    expect(r.get(A)?.desired).toMatchObject({ sources: ["C"], configVersion: 4 });
  });

  it("clears a pending set once the node reports a stamp taken after it", () => {
    const r = fresh();
    r.setSent(A, false, 5);
    r.receive("tf/report/A", "R1 1 5 B", 0, 1);
    expect(r.get(A)?.desired.pendingSet).toEqual({ on: false, counter: 5 });
    r.receive("tf/report/A", "R1 0 6 A", 0, 2);
    expect(r.get(A)?.desired.pendingSet).toBeUndefined();
  });

  it("restores desire and identity from a snapshot", () => {
    const r = fresh();
    r.setSent(A, false, 5);
    const copy = new TwinRegistry(Prefix("tf"));
    copy.restore(r.snapshot());
    expect(copy.get(A)).toMatchObject({
      kind: "sim",
      presence: "unknown",
      desired: { sources: ["B"], configVersion: 1, pendingSet: { on: false, counter: 5 } },
    });
  });
});
