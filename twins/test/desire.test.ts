/**
 * Whose config is it when it comes before the node's presence (protocol.md §6): a pairing no node
 * has confirmed is pending; a node's own retained config at the service's start is confirmed.
 */
import { describe, expect, it } from "vitest";
import { NodeId, Prefix } from "../../protocol/index.js";
import { desireAfterConfig, desireAfterPresence } from "../desire.js";
import { TwinRegistry } from "../registry.js";

const A = NodeId("A");
const B = NodeId("B");
const C = NodeId("C");
const replayed = true;
const live = false;

function registry(): TwinRegistry {
  return new TwinRegistry(Prefix("tf"));
}

describe("a config seen before its node's presence", () => {
  it("is pending when no node is there: a one-shot pair for a node never seen", () => {
    const r = registry();
    r.receive("tf/config/X", "C1 1 B", 1, 0, live); // `twinfleet pair X B` writes it
    expect(r.get(NodeId("X"))).toMatchObject({
      presence: "unknown",
      pairing: "pending",
      pairingInSync: false,
      desired: { sources: ["B"], configVersion: 1 },
    });
    expect(r.snapshot().nodes.X?.pending).toBe(true);
    // Replayed again (the service resubscribed), it is still nobody's word.
    r.receive("tf/config/X", "C1 1 B", 1, 1, replayed);
    expect(r.get(NodeId("X"))?.pairing).toBe("pending");
  });

  it("is the node's own when its replayed `T1 1` follows it at the service's start", () => {
    const r = registry();
    r.receive("tf/config/A", "C1 3 B", 1, 0, replayed);
    expect(r.get(A)?.pairing).toBe("pending");
    const fx = r.receive("tf/status/A", "T1 1", 1, 0, replayed);
    expect(fx).toEqual(
      expect.arrayContaining([
        { type: "online", node: "A" },
        { type: "updated", node: "A", change: "desired" },
        { type: "desired-changed", node: "A" },
      ]),
    );
    expect(r.get(A)).toMatchObject({ pairing: "confirmed", desired: { sources: ["B"], configVersion: 3 } });
    expect(r.snapshot().nodes.A?.pending).toBeUndefined();
  });

  it("is what the node follows once shown its own: a write while it is away changes it only when the node takes it", () => {
    // A run's passive watch (no store, no commands) subscribes while the board is on line: the
    // board's config is replayed before its status. Its `follows` is the board's, not the next write.
    const r = registry();
    r.receive("tf/config/A", "C1 3 B", 1, 0, replayed);
    r.receive("tf/status/A", "T1 1", 1, 0, replayed);
    r.receive("tf/status/A", "T1 0", 1, 1, live); // its will: the power went
    r.receive("tf/config/A", "C1 4 B C", 1, 2, live); // `twinfleet pair A C` while it is away
    expect(r.get(A)).toMatchObject({ follows: ["B"], pairing: "pending", desired: { sources: ["B", "C"] } });
    // Back: it syncs, takes the written config and says so.
    r.receive("tf/status/A", "T1 1", 1, 3, live);
    r.receive("tf/config/A", "C1 4 B C", 0, 3, live);
    expect(r.get(A)).toMatchObject({ follows: ["B", "C"], pairing: "confirmed" });
    // The same shown by a register (no status kept) makes the config the node's too.
    r.receive("tf/config/C", "C1 2 B", 1, 0, replayed);
    r.receive("tf/register/C", "G1 real uno-w5100 1.0.0", 0, 1);
    r.receive("tf/status/C", "T1 0", 1, 2, live);
    r.receive("tf/config/C", "C1 3", 1, 3, live); // `twinfleet unpair C B` while it is away
    expect(r.get(C)?.follows).toEqual(["B"]);
  });

  it("is the node's own when the replayed `T1 1` came first", () => {
    const r = registry();
    r.receive("tf/status/A", "T1 1", 1, 0, replayed);
    r.receive("tf/config/A", "C1 3 B", 1, 0, replayed);
    expect(r.get(A)?.pairing).toBe("confirmed");
  });

  it("is pending when the node is away: the config may be a control tool's write", () => {
    const r = registry();
    r.receive("tf/config/A", "C1 3 B", 1, 0, replayed);
    r.receive("tf/status/A", "T1 0", 1, 0, replayed);
    expect(r.get(A)).toMatchObject({ presence: "offline", pairing: "pending" });
    // Its register when it returns confirms nothing: only its own config does.
    r.receive("tf/register/A", "G1 sim uno-w5100 1.0.0", 0, 1);
    expect(r.get(A)?.pairing).toBe("pending");
    r.receive("tf/config/A", "C1 3 B", 1, 1, live);
    expect(r.get(A)?.pairing).toBe("confirmed");
  });

  it("is not confirmed by a live `T1 1`: a node connecting now may keep a newer config of its own", () => {
    const r = registry();
    r.receive("tf/config/X", "C1 1 B", 1, 0, live);
    r.receive("tf/status/X", "T1 1", 1, 1, live);
    r.receive("tf/register/X", "G1 sim uno-w5100 1.0.0", 0, 1);
    expect(r.get(NodeId("X"))?.pairing).toBe("pending");
    // Its own newer config replaces no pending desire: the pairing is sent again.
    expect(r.receive("tf/config/X", "C1 4 C", 1, 2, live)).toContainEqual({ type: "reconcile", node: "X" });
    expect(r.get(NodeId("X"))).toMatchObject({ pairing: "pending", desired: { sources: ["B"] } });
  });

  it("is the node's own when the node, its status not replayed, answers the query", () => {
    const r = registry();
    r.receive("tf/config/A", "C1 2 B C", 1, 0, replayed);
    r.receive("tf/register/A", "G1 sim uno-w5100 1.0.0", 0, 1);
    expect(r.get(A)).toMatchObject({ presence: "online", pairing: "confirmed" });
  });

  it("confirms nothing once another config, a clear or the operator changed it", () => {
    const r = registry();
    r.receive("tf/config/A", "C1 2 B", 1, 0, replayed);
    r.setDesiredSources(A, [C], 3); // paired before the status came
    r.receive("tf/status/A", "T1 1", 1, 0, replayed);
    expect(r.get(A)).toMatchObject({ pairing: "pending", desired: { sources: ["C"] } });

    r.receive("tf/config/B", "C1 2 A", 1, 0, replayed);
    r.receive("tf/config/B", "", 1, 0, live); // cleared before the status came
    r.receive("tf/status/B", "T1 1", 1, 0, replayed);
    expect(r.get(B)?.pairing).toBe("pending");

    r.receive("tf/config/C", "C1 2 A", 1, 0, replayed);
    r.receive("tf/config/C", "C1 5 B", 1, 0, live); // another tool's write
    r.receive("tf/status/C", "T1 1", 1, 0, replayed);
    expect(r.get(C)).toMatchObject({ pairing: "pending", desired: { sources: ["B"], configVersion: 5 } });
  });

  it("leaves a restarted service's stored pairing to the store: pending stays pending", () => {
    const before = registry();
    before.receive("tf/config/X", "C1 1 B", 1, 0, live);
    const r = registry();
    r.restore(before.snapshot());
    r.receive("tf/config/X", "C1 1 B", 1, 0, replayed);
    r.receive("tf/status/X", "T1 1", 1, 0, replayed); // a stored desire is not taken from the broker
    expect(r.get(NodeId("X"))?.pairing).toBe("pending");
    // One stored confirmed is confirmed again by the broker's equal copy, as before.
    const a = registry();
    a.restore({ nodes: { A: { sources: [B], configVersion: 2, kind: "sim", lastSeen: 5 } } });
    a.receive("tf/config/A", "C1 2 B", 1, 0, replayed);
    expect(a.get(A)?.pairing).toBe("confirmed");
  });

  it("takes a stored confirmed pairing as confirmed by the broker's copy of its sources at another version", () => {
    // Stored confirmed at version 2; the broker holds the same sources at version 3 (a re-pair to
    // the same source while the service was down, a confirmation it was killed before saving) or 1
    // (a write the broker lost). The node, offline, follows B either way: the pairing is not pending.
    for (const [copy, version] of [
      ["C1 3 B", 3],
      ["C1 1 B", 2],
    ] as const) {
      for (const statusFirst of [false, true]) {
        const r = registry();
        r.restore({ nodes: { A: { sources: [B], configVersion: 2, kind: "sim", lastSeen: 5 } } });
        if (statusFirst) r.receive("tf/status/A", "T1 0", 1, 0, replayed);
        r.receive("tf/config/A", copy, 1, 0, replayed);
        r.receive("tf/status/A", "T1 0", 1, 0, replayed);
        expect(r.get(A), `${copy}, status first: ${statusFirst}`).toMatchObject({
          pairing: "confirmed",
          desired: { sources: ["B"], configVersion: version },
        });
        expect(r.snapshot().nodes.A?.pending).toBeUndefined();
      }
    }
    // Other sources at a higher version are another tool's write: the new desire, pending.
    const other = registry();
    other.restore({ nodes: { A: { sources: [B], configVersion: 2, kind: "sim", lastSeen: 5 } } });
    other.receive("tf/config/A", "C1 3 C", 1, 0, replayed);
    expect(other.get(A)).toMatchObject({ pairing: "pending", desired: { sources: ["C"], configVersion: 3 } });
    // A stored pending pairing stays pending, whatever the broker's copy.
    const pending = registry();
    pending.restore({
      nodes: { A: { sources: [B], configVersion: 2, pending: true, kind: "sim", lastSeen: 5 } },
    });
    pending.receive("tf/config/A", "C1 3 B", 1, 0, replayed);
    expect(pending.get(A)?.pairing).toBe("pending");
  });

  it("takes the node's own config at a higher version than a stored confirmed pairing as its new desire, heard online first", () => {
    // A twins.json restored from an older backup (or a pairing made elsewhere while the service was
    // down): the node follows B and C at version 3. Heard online (a live report) before the broker's
    // replay of its config reached the service, the config was taken for one the node had yet to
    // give up, and the service sent it the stored pairing back: the later pairing undone, unsaid.
    for (const order of ["status first", "config first"] as const) {
      const r = registry();
      r.restore({ nodes: { A: { sources: [B], configVersion: 2, kind: "sim", lastSeen: 5 } } });
      if (order === "status first") r.receive("tf/status/A", "T1 1", 1, 0, live);
      const fx = r.receive("tf/config/A", "C1 3 B C", 1, 0, replayed);
      if (order === "config first") fx.push(...r.receive("tf/status/A", "T1 1", 1, 0, live));
      expect(r.get(A), order).toMatchObject({ desired: { sources: ["B", "C"], configVersion: 3 } });
      expect(fx, order).toContainEqual({
        type: "desired-changed",
        node: "A",
        replaced: ["B"],
        fromStore: true,
      });
      expect(
        fx.filter((e) => e.type === "reconcile"),
        order,
      ).toEqual([]);
    }
    // Behind the stored pairing (a lower version), the node is sent it, as before.
    const behind = registry();
    behind.restore({ nodes: { A: { sources: [B], configVersion: 2, kind: "sim", lastSeen: 5 } } });
    behind.receive("tf/status/A", "T1 1", 1, 0, live);
    const fx = behind.receive("tf/config/A", "C1 1 C", 1, 0, live);
    expect(fx).toContainEqual({ type: "reconcile", node: "A" });
    expect(behind.get(A)?.desired).toMatchObject({ sources: ["B"], configVersion: 2 });
  });

  it("takes the node's own config at a higher version than a stored pending pairing as its new desire, heard online first", () => {
    // The store holds a pairing not seen carried out (pending) or of a node never heard, and the node
    // was commanded since at a higher version: by another tool, or by this service itself, whose
    // config was published and carried out while its save hung on a frozen disk before it was
    // killed. Heard online first, the node was sent the stored pairing back: the later one undone.
    const stored = {
      pending: { sources: [B], configVersion: 2, kind: "sim" as const, lastSeen: 5, pending: true },
      "never heard": { sources: [B], configVersion: 2 },
    };
    for (const [name, rec] of Object.entries(stored))
      for (const order of ["status first", "config first"] as const) {
        const r = registry();
        r.restore({ nodes: { A: rec } });
        if (order === "status first") r.receive("tf/status/A", "T1 1", 1, 0, live);
        const fx = r.receive("tf/config/A", "C1 3 B C", 1, 0, replayed);
        if (order === "config first") fx.push(...r.receive("tf/status/A", "T1 1", 1, 0, live));
        const what = `${name}, ${order}`;
        expect(r.get(A), what).toMatchObject({ desired: { sources: ["B", "C"], configVersion: 3 } });
        expect(fx, what).toContainEqual({
          type: "desired-changed",
          node: "A",
          replaced: ["B"],
          fromStore: true,
        });
        expect(
          fx.filter((e) => e.type === "reconcile"),
          what,
        ).toEqual([]);
      }
    // A pairing this service makes after its start is its own again: the node's config behind it
    // (carrying out an older command) does not replace it, and the node is sent it.
    const r = registry();
    r.restore({ nodes: { A: stored.pending } });
    r.receive("tf/status/A", "T1 1", 1, 0, live);
    r.setDesiredSources(A, [B, NodeId("D")], 2, 3);
    const fx = r.receive("tf/config/A", "C1 4 B C", 1, 0, live);
    expect(fx).toContainEqual({ type: "reconcile", node: "A" });
    expect(r.get(A)?.desired.sources).toEqual(["B", "D"]);
  });

  it("takes a stored confirmed pairing of a node never heard (no identity, no last-seen) as pending", () => {
    // What an older build stored for `twinfleet pair ghost-1 B` on a node never seen: confirmed, and
    // the broker holds the config it wrote itself. No node ever confirmed it.
    const r = registry();
    const ghost = NodeId("ghost-1");
    r.restore({ nodes: { "ghost-1": { sources: [B], configVersion: 1 } } });
    r.receive("tf/config/ghost-1", "C1 1 B", 1, 0, replayed);
    expect(r.get(ghost)?.pairing).toBe("pending");
    expect(r.snapshot().nodes["ghost-1"]).toMatchObject({ sources: ["B"], pending: true });
    // Heard by its identity alone (a register once, its date since lost): confirmed by the copy.
    const known = registry();
    known.restore({ nodes: { "ghost-1": { sources: [B], configVersion: 1, kind: "real" } } });
    known.receive("tf/config/ghost-1", "C1 1 B", 1, 0, replayed);
    expect(known.get(ghost)?.pairing).toBe("confirmed");
    // The node itself showing the config confirms it, as for any pending pairing.
    r.receive("tf/status/ghost-1", "T1 1", 1, 0, live);
    r.receive("tf/config/ghost-1", "C1 1 B", 1, 0, live);
    expect(r.get(ghost)?.pairing).toBe("confirmed");
  });
});

describe("desireAfterConfig and desireAfterPresence", () => {
  const none = { desired: { sources: [], configVersion: 0 }, known: false, confirmed: true };
  const seen = { version: 2, sources: [B] };

  it("adopt a first config: confirmed online, pending offline, unattributed before any presence", () => {
    expect(desireAfterConfig(none, seen, "online").next).toMatchObject({ confirmed: true });
    expect(desireAfterConfig(none, seen, "online").next.unattributed).toBeUndefined();
    expect(desireAfterConfig(none, seen, "offline").next).toMatchObject({ confirmed: false });
    expect(desireAfterConfig(none, seen, "unknown").next).toMatchObject({
      confirmed: false,
      unattributed: true,
    });
  });

  it("settle an unattributed desire once, by the presence that comes", () => {
    const s = desireAfterConfig(none, seen, "unknown").next;
    expect(desireAfterPresence(s, true)).toMatchObject({
      changed: true,
      next: { confirmed: true, unattributed: false },
    });
    expect(desireAfterPresence(s, false)).toMatchObject({
      changed: false,
      next: { confirmed: false, unattributed: false },
    });
    const known = { ...s, unattributed: false };
    expect(desireAfterPresence(known, true)).toEqual({ next: known, changed: false, reconcile: false });
  });
});
