/**
 * Nodes on their power-on states (counter 0, all off) hold one state whatever their origins: a
 * node whose source's zero stamp wins the origin's tie-break was judged diverged (250 of a
 * 2000-node ring whose broker died before any node registered, no press made).
 */
import { describe, expect, it } from "vitest";
import { NodeId, type Stamp } from "../../protocol/index.js";
import { divergedNodes, type FinalState } from "../divergence.js";

const A = NodeId("n-0000");
const B = NodeId("n-0001");
const at = (counter: number, origin: NodeId): Stamp => ({ counter, origin });

describe("divergence of power-on states", () => {
  it("a node and its source on their own power-on states are not diverged", () => {
    const finals = new Map<NodeId, FinalState>([
      [A, { on: false, stamp: at(0, A) }],
      [B, { on: false, stamp: at(0, B) }],
    ]);
    // A follows B, B follows A: B's zero stamp is the newer by its origin.
    const pairing = new Map([
      [A, [B]],
      [B, [A]],
    ]);
    expect(divergedNodes(finals, pairing, new Map())).toEqual([]);
  });

  it("a node on its power-on state whose source was pressed is diverged", () => {
    const finals = new Map<NodeId, FinalState>([
      [A, { on: false, stamp: at(0, A) }],
      [B, { on: true, stamp: at(1, B) }],
    ]);
    expect(divergedNodes(finals, new Map([[A, [B]]]), new Map([[B, at(1, B)]]))).toEqual([A]);
  });
});
