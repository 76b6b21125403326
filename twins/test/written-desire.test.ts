/**
 * A pairing this service writes over a restored one (twins/twin-record.ts writeDesire): it is the
 * operator's, pending until the node itself shows it, whatever the store said of the one before.
 */
import { describe, expect, it } from "vitest";
import { NodeId, Prefix } from "../../protocol/index.js";
import { TwinRegistry } from "../registry.js";

const A = NodeId("A");
const B = NodeId("B");
const C = NodeId("C");
const replayed = true;
const live = false;

function restored(): TwinRegistry {
  const r = new TwinRegistry(Prefix("tf"));
  r.restore({ nodes: { A: { sources: [B], configVersion: 2, kind: "sim", lastSeen: 5 } } });
  return r;
}

describe("a pairing written over a restored confirmed one", () => {
  it("is not confirmed by the broker's echo of its own write while the node is away", () => {
    const r = restored();
    r.receive("tf/status/A", "T1 0", 1, 0, replayed);
    r.setDesiredSources(A, [C], 3); // written as the node's retained config: it is away
    r.receive("tf/config/A", "C1 3 C", 1, 0, live); // the broker's copy of that write
    expect(r.get(A)).toMatchObject({ pairing: "pending", desired: { sources: ["C"], configVersion: 3 } });
    expect(r.snapshot().nodes.A?.pending).toBe(true);
  });
});
