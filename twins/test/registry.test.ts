/** The twin registry (twins/registry.ts): twins from what nodes send, bad input counted, newer state kept. */
import { describe, expect, it } from "vitest";
import { COUNTER_CEILING, NodeId, Prefix } from "../../protocol/index.js";
import { TwinRegistry } from "../registry.js";

const A = NodeId("A");
const B = NodeId("B");

/** A service's start: the broker replays A's config, the reports and A's `T1 1`; A registers. */
function fresh(): TwinRegistry {
  const r = new TwinRegistry(Prefix("tf"));
  r.receive("tf/config/A", "C1 1 B", 0, 0, true);
  r.receive("tf/report/B", "R1 1 5 B", 0, 0, true);
  r.receive("tf/report/A", "R1 1 5 B", 0, 0, true);
  r.receive("tf/status/A", "T1 1", 0, 0, true);
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
    // Sent live, it is what the broker holds now: the twin's newer one goes back (broker-copy.test.ts).
    expect(r.receive("tf/report/A", "R1 0 3 A", 0, 1)).toEqual([{ type: "put-back", node: "A" }]);
    expect(reasons(r)).toEqual({});
    // While the node is offline an older config is someone's stale write (online it is the node's),
    // and the broker's copy: the confirmed pairing is sent again (stale-config-broker.test.ts).
    r.receive("tf/status/A", "T1 0", 0, 1);
    const fx = r.receive("tf/config/A", "C1 0", 0, 1);
    expect(fx[0]).toMatchObject({ type: "bad-input", input: { reason: "stale-config", node: "A" } });
    expect(fx.slice(1).map((e) => e.type)).toEqual(["updated", "desired-changed", "reconcile"]);
    expect(r.get(A)).toMatchObject({ reported: { on: true, stamp: { counter: 5 } }, follows: ["B"] });
    // An equal stamp is the answer to a query: not bad, not a change.
    expect(r.receive("tf/report/A", "R1 1 5 B", 0, 1)).toEqual([]);
    // An older one replayed for a resubscribe (the broker's retained copy, after the live newer one):
    // expected, not counted, and it changes nothing.
    const bad = r.badInput().total;
    expect(r.receive("tf/report/A", "R1 0 3 A", 0, 2, true)).toEqual([]);
    expect(r.badInput().total).toBe(bad);
    expect(r.get(A)).toMatchObject({ reported: { on: true, stamp: { counter: 5 } } });
  });

  it("does not count a rebooted node's older state as bad input: it puts the twin's back", () => {
    // A fleet restarted under 25 % loss: nodes whose retained report came after the 1.5 s sync grace
    // published their power-on state, 13 in 4 s, and TwinfleetBadInput fired. That publish also
    // replaced the broker's copy: the twin's goes back, so the node's next boot finds it.
    const r = fresh();
    r.receive("tf/status/A", "T1 0", 0, 1);
    r.receive("tf/status/A", "T1 1", 0, 2);
    expect(r.receive("tf/report/A", "R1 0 0 A", 0, 3)).toEqual([{ type: "put-back", node: "A" }]);
    expect(r.get(A)).toMatchObject({ reported: { on: true, stamp: { counter: 5, origin: "B" } } });
    // A node that booted into a broker that had lost its report, and was pressed: the same.
    expect(r.receive("tf/report/A", "R1 0 1 A", 0, 4)).toEqual([{ type: "put-back", node: "A" }]);
    expect(reasons(r)).toEqual({});
  });

  it("takes lastSeen from what the node sends now, not from retained copies or others' configs", () => {
    const r = fresh();
    r.receive("tf/report/A", "R1 1 6 A", 0, 100);
    r.receive("tf/status/A", "T1 0", 0, 200, true);
    expect(r.get(A)?.lastSeen).toBe(100);
    // A restart of the service, or a resubscribe: the broker replays the node's retained report.
    r.receive("tf/report/A", "R1 1 6 A", 0, 90_000, true);
    expect(r.get(A)?.lastSeen).toBe(100);
    // A pairing written to the offline node's config (by this service or any client).
    r.receive("tf/config/A", "C1 9 B", 0, 95_000);
    expect(r.get(A)?.lastSeen).toBe(100);
    // Its `T1 1` replayed as retained (a broker that kept it without the will of a node long dead).
    r.receive("tf/status/A", "T1 1", 0, 96_000, true);
    expect(r.get(A)?.lastSeen).toBe(100);
    r.receive("tf/status/A", "T1 0", 0, 97_000);
    // The node back: its own messages count.
    r.receive("tf/status/A", "T1 1", 0, 120_000);
    expect(r.get(A)?.lastSeen).toBe(120_000);
  });

  it("stores lastSeen as a date by the host's clock of the save, and restores it onto the service's clock", () => {
    const r = fresh();
    r.receive("tf/report/A", "R1 1 6 A", 0, 100);
    // The service's clock started on 1970-01-04 (a board without a battery-backed clock); NTP then
    // set the date 56 years on: wallNow() - now() moved, now() did not.
    const booted = 3 * 86_400_000;
    const set = Date.UTC(2026, 11, 5) - 1_000;
    expect(r.snapshot(booted).nodes.A?.lastSeen).toBe(booted + 100);
    expect(r.snapshot(set).nodes.A?.lastSeen).toBe(set + 100);
    // Restarted on the set clock, its now() from 0: heard 900 ms before the restart, not 56 years.
    const again = new TwinRegistry(Prefix("tf"));
    again.restore(r.snapshot(set), set + 1_000, 0);
    expect(again.get(A)?.lastSeen).toBe(-900);
    // A date still to come (stored while the clock ran an hour ahead, put back since) is left out.
    const back = new TwinRegistry(Prefix("tf"));
    back.restore(r.snapshot(set + 3_600_000), set + 1_000, 0);
    expect(back.get(A)?.lastSeen).toBeUndefined();
    expect(back.get(A)?.kind).toBe("sim");
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

  it("drops a report or config above the counter ceiling, as nodes do, and keeps it out of sets", () => {
    const r = fresh();
    // Forged with the node's own origin (not spoofed): the maximum, where a node's clock saturates.
    expect(r.receive("tf/report/B", "R1 0 4294967295 B", 0, 1)).toMatchObject([
      { type: "bad-input", input: { reason: "implausible-counter", node: "B" } },
    ]);
    expect(r.get(B)?.reported?.stamp.counter).toBe(5);
    // Just above the ceiling, replayed or not; a config version above it.
    r.receive("tf/report/Y", `R1 1 ${COUNTER_CEILING + 1} Y`, 0, 2, true);
    expect(r.get(NodeId("Y"))).toBeUndefined();
    expect(r.receive("tf/config/A", "C1 4294967295", 0, 2)).toMatchObject([
      { type: "bad-input", input: { reason: "implausible-counter", node: "A" } },
    ]);
    expect(r.get(A)?.config?.sources).toEqual(["B"]);
    expect(r.maxCounter).toBe(5);
    // A live jump of more than 2^24 above the highest believed is shown, not carried into sets;
    // one of 2^24 is taken.
    r.receive("tf/report/X", `R1 1 ${5 + 2 ** 24 + 1} X`, 0, 3);
    expect(r.get(NodeId("X"))?.reported?.stamp.counter).toBe(5 + 2 ** 24 + 1);
    expect(r.maxCounter).toBe(5);
    r.receive("tf/report/W", `R1 1 ${5 + 2 ** 24} W`, 0, 4);
    expect(r.maxCounter).toBe(5 + 2 ** 24);
    expect(reasons(r)).toEqual({ "implausible-counter": 4 });
    // At the ceiling is taken; what the broker replays on a subscription is the fleet as it stands:
    // no jump is measured.
    const q = new TwinRegistry(Prefix("tf"));
    q.receive("tf/report/A", "R1 1 3 A", 0, 0, true);
    q.receive("tf/report/B", `R1 1 ${COUNTER_CEILING} B`, 0, 0, true);
    expect(q.maxCounter).toBe(COUNTER_CEILING);
    expect(reasons(q)).toEqual({});
  });

  it("takes a source in as upstream as soon as the node is desired to follow it", () => {
    const r = fresh();
    const Z = NodeId("Z");
    r.receive("tf/report/Z", "R1 0 1 Z", 0, 0);
    expect(r.receive("tf/report/A", "R1 0 9 Z", 0, 1)).toMatchObject([{ type: "bad-input" }]);
    r.setDesiredSources(A, [B, Z], 2);
    expect(r.receive("tf/report/A", "R1 0 10 Z", 0, 2)).toMatchObject([{ type: "updated", node: "A" }]);
    // A stored desire read back into a new registry counts as well.
    const back = new TwinRegistry(Prefix("tf"));
    back.receive("tf/config/A", "C1 1 B", 0, 0, true); // whom A follows is known: its origins are judged
    back.receive("tf/report/A", "R1 1 5 A", 0, 0);
    expect(back.receive("tf/report/A", "R1 0 11 Z", 0, 1)).toMatchObject([{ type: "bad-input" }]);
    back.restore(r.snapshot());
    expect(back.receive("tf/report/A", "R1 0 12 Z", 0, 2)).toMatchObject([{ type: "updated", node: "A" }]);
  });

  it("tells a register first only for a node it never knew, not for one its store kept", () => {
    const before = fresh();
    const r = new TwinRegistry(Prefix("tf"));
    r.restore(before.snapshot());
    expect(r.receive("tf/register/A", "G1 sim uno-w5100 1.0.0", 0, 1)).toContainEqual({
      type: "registered",
      node: "A",
      first: false,
      again: false,
    });
    expect(r.get(A)?.registeredAt).toBe(1);
    expect(r.receive("tf/register/B", "G1 sim uno-w5100 1.0.0", 0, 2)).toContainEqual({
      type: "registered",
      node: "B",
      first: true,
      again: false,
    });
    expect(r.receive("tf/register/B", "G1 sim uno-w5100 1.0.0", 0, 3)).toContainEqual({
      type: "registered",
      node: "B",
      first: false,
      again: true,
    });
  });

  it("counts a second identity under one id while online, and adopts the newest", () => {
    const r = fresh();
    expect(r.receive("tf/register/A", "G1 real uno-w5100 1.0.0", 0, 1)).toMatchObject([
      { type: "bad-input", input: { reason: "identity-conflict", node: "A" } },
      { type: "registered", node: "A", first: false, again: false },
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
    expect(r.get(A)).toMatchObject({ pairing: "confirmed", pairingInSync: true });
    r.setDesiredSources(A, [], 1); // unpair sent to the online node
    expect(r.get(A)).toMatchObject({ pairing: "pending", pairingInSync: false });
    // An intermediate config of the node: the pending desire stays, the pairing is sent again.
    expect(r.receive("tf/config/A", "C1 2 B C", 0, 1)).toContainEqual({ type: "reconcile", node: "A" });
    expect(r.get(A)?.desired).toMatchObject({ sources: [], configVersion: 1 });
    r.receive("tf/config/A", "C1 3", 0, 2); // the node confirms
    expect(r.get(A)).toMatchObject({ pairing: "confirmed", desired: { sources: [], configVersion: 3 } });
    r.receive("tf/config/A", "C1 4 C", 0, 3); // a newer one, from another control tool's command
    expect(r.get(A)).toMatchObject({ pairing: "confirmed", desired: { sources: ["C"], configVersion: 4 } });
  });

  it("keeps a desire written for an offline node pending until the node itself confirms it", () => {
    const r = fresh();
    r.receive("tf/config/A", "C1 1 B", 0, 0); // A's own config, seen while it is online
    r.receive("tf/status/A", "T1 0", 0, 1);
    // Another tool writes A's config while A is offline: the new desire, not confirmed by A.
    r.receive("tf/config/A", "C1 5 D", 0, 2);
    expect(r.get(A)).toMatchObject({ pairing: "pending", desired: { sources: ["D"], configVersion: 5 } });
    expect(r.get(A)?.follows).toEqual(["B"]); // A still follows what it last said
    // A stale low-version write replaces nothing.
    expect(r.receive("tf/config/A", "C1 2", 0, 3)).toMatchObject([{ input: { reason: "stale-config" } }]);
    // A returns and puts back its own older config (the broker had lost the write): still pending.
    r.receive("tf/status/A", "T1 1", 0, 4);
    expect(r.receive("tf/config/A", "C1 4 C", 0, 4)).toContainEqual({ type: "reconcile", node: "A" });
    expect(r.get(A)).toMatchObject({ pairing: "pending", desired: { sources: ["D"] }, follows: ["C"] });
    // Even a node config with a higher version does not replace a pending desire.
    r.receive("tf/config/A", "C1 9 E", 0, 5);
    expect(r.get(A)).toMatchObject({ pairing: "pending", desired: { sources: ["D"] } });
    r.receive("tf/config/A", "C1 10 D", 0, 6);
    expect(r.get(A)).toMatchObject({ pairing: "confirmed", desired: { sources: ["D"], configVersion: 10 } });
    expect(r.snapshot().nodes.A?.pending).toBeUndefined();
  });

  it("takes an empty payload on a retained topic as cleared, not as bad input", () => {
    const r = fresh();
    r.receive("tf/config/A", "C1 1 B", 0, 0); // A's own config, seen while it is online
    expect(r.receive("tf/report/A", "", 0, 1)).toEqual([{ type: "updated", node: "A", change: "report" }]);
    expect(r.get(A)?.reported).toBeUndefined();
    // The node still follows B, but would read nothing back at its next boot: the pairing is pending
    // (and stored so) until the node, asked again, has written its config again.
    expect(r.receive("tf/config/A", new Uint8Array(0), 0, 1)).toEqual([
      { type: "updated", node: "A", change: "config" },
      { type: "updated", node: "A", change: "desired" },
      { type: "desired-changed", node: "A" },
      { type: "reconcile", node: "A" },
    ]);
    expect(r.get(A)).toMatchObject({ follows: ["B"], pairing: "pending" });
    expect(r.get(A)?.config).toBeUndefined();
    expect(r.snapshot().nodes.A?.pending).toBe(true);
    r.receive("tf/config/A", "C1 1 B", 0, 1);
    expect(r.get(A)).toMatchObject({ follows: ["B"], pairing: "confirmed" });
    expect(r.snapshot().nodes.A?.pending).toBeUndefined();
    expect(r.receive("tf/status/A", "", 0, 1)).toEqual([]);
    expect(r.get(A)?.presence).toBe("online");
    expect(r.receive("tf/report/never-seen", "", 0, 1)).toEqual([]);
    expect(r.badInput().total).toBe(0);
    // A report after the clear is taken as new, whatever its stamp.
    r.receive("tf/report/A", "R1 0 2 A", 0, 2);
    expect(r.get(A)?.reported?.stamp).toEqual({ counter: 2, origin: "A" });
    // Registers and commands are not retained: an empty one is still malformed.
    expect(r.receive("tf/register/A", "", 0, 3)).toMatchObject([{ input: { reason: "bad-payload" } }]);
  });

  it("takes a malformed config as one that may have replaced the node's on the broker", () => {
    const r = fresh();
    r.receive("tf/config/A", "C1 1 B", 0, 0);
    // It may have replaced the node's config on the broker: pending again, beside the bad input.
    expect(r.receive("tf/config/A", "C1 n-0001 n-0001", 0, 2).map((e) => e.type)).toEqual([
      "bad-input",
      "updated",
      "desired-changed",
      "reconcile",
    ]);
    expect(r.get(A)).toMatchObject({ follows: ["B"], pairing: "pending" });
    // A malformed report changes no pairing.
    r.receive("tf/config/A", "C1 1 B", 0, 3);
    expect(r.receive("tf/report/A", "R1 x", 0, 3).map((e) => e.type)).toEqual(["bad-input"]);
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
