/**
 * A register is never retained (protocol.md §3). One published with the retain flag (a board whose
 * firmware sets it, a tool) stays on a broker that keeps it, through its restarts, and is replayed at
 * every subscription: taken as the node answering the query, it showed a dead node online with the
 * kind it claimed, made a twin of a made-up id, and brought a forgotten id back as new at the next
 * start. A replayed register is bad input now; a live one is the node, as before.
 */
import { describe, expect, it } from "vitest";
import { NodeId, Prefix } from "../../protocol/index.js";
import { RETAINED_REGISTER } from "../register-effects.js";
import { TwinRegistry } from "../registry.js";

const DEAD = NodeId("n-0003");

/** A restarted service's view of a node that went offline cleanly: config, report and `T1 0` replayed. */
function restarted(): TwinRegistry {
  const r = new TwinRegistry(Prefix("tf"));
  r.restore({
    nodes: {
      [DEAD]: {
        sources: [NodeId("n-0002")],
        configVersion: 1,
        kind: "sim",
        profile: "uno-w5100",
        firmware: "1.0.0",
      },
    },
  });
  r.receive("tf/config/n-0003", "C1 1 n-0002", 0, 0, true);
  r.receive("tf/report/n-0003", "R1 1 16 n-0002", 0, 0, true);
  r.receive("tf/status/n-0003", "T1 0", 0, 0, true);
  return r;
}

describe("a retained register, replayed for the subscription", () => {
  it("leaves a dead node offline, with its own kind, and counts the replay as bad input", () => {
    const r = restarted();
    const effects = r.receive("tf/register/n-0003", "G1 real uno-w5100 1.0", 0, 10, true);
    expect(effects).toMatchObject([
      { type: "bad-input", input: { reason: "bad-payload", node: DEAD, detail: RETAINED_REGISTER } },
    ]);
    expect(r.get(DEAD)).toMatchObject({ presence: "offline", kind: "sim", firmware: "1.0.0" });
    expect(r.get(DEAD)?.lastSeen).toBeUndefined();
    expect(r.badInputOf(DEAD)).toBe(1);
  });

  it("makes no twin of an id nothing else names", () => {
    const r = restarted();
    r.receive("tf/register/ghost-1", "G1 real uno-w5100 1.0", 0, 10, true);
    expect(r.has(NodeId("ghost-1"))).toBe(false);
    expect(r.size).toBe(1);
    expect(r.badInput().byReason["bad-payload"]).toBe(1);
  });

  it("still takes a live register as the node", () => {
    const r = restarted();
    const effects = r.receive("tf/register/n-0003", "G1 sim uno-w5100 1.0.0", 0, 10);
    expect(effects).toContainEqual({ type: "online", node: DEAD });
    expect(r.get(DEAD)).toMatchObject({ presence: "online", lastSeen: 10 });
    expect(r.badInput().total).toBe(0);
  });
});
