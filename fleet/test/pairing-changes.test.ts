/**
 * A run judges each press against the pairing at the nodes when it happened: a node that follows
 * another source from some time on (its `sources` event) is owed the new source's presses from then
 * on, and no longer its old source's. Before, the run judged against the topology it started with,
 * and counted the old source's later presses as lost to the re-paired node. A press that did not
 * reach a node paired at that time still counts as lost.
 */
import { describe, expect, it } from "vitest";
import type { NodeEvent } from "../../node/metrics.js";
import { NodeId, type Stamp } from "../../protocol/index.js";
import { Collector } from "../collector.js";
import { LivePairing, PAIRING_CHANGES_LISTED, pairingChangeLine } from "../pairing-changes.js";
import { applied, press } from "./node-events.js";

const [A, B, C, D] = ["n-0000", "n-0001", "n-0002", "n-0003"].map((s) => NodeId(s)) as [
  NodeId,
  NodeId,
  NodeId,
  NodeId,
];
const stamp = (counter: number, origin: NodeId): Stamp => ({ counter, origin });
const sources = (node: NodeId, at: number, list: NodeId[]): NodeEvent => ({
  type: "sources",
  node,
  at,
  sources: list,
});

describe("a run's checker on a fleet re-paired mid-run", () => {
  it("owes each press to the followers paired when it happened, and counts what did not arrive as lost", () => {
    // A follows B, D follows A: B's presses reach A and D. At 2 s A follows C instead.
    const c = Collector.following(
      new Map([
        [A, [B]],
        [D, [A]],
      ]),
    );
    const lines: string[] = [];
    c.onPairingLine = (l) => lines.push(l);
    c.push([
      press(B, 100, stamp(1, B)),
      applied(A, 110, stamp(1, B)),
      applied(D, 120, stamp(1, B)),
      // B's press at 1 s reaches neither (A's link is down): owed to both, lost.
      press(B, 1000, stamp(2, B)),
      sources(A, 2000, [C]),
      // B's press at 3 s is owed to no one: nothing follows B now.
      press(B, 3000, stamp(3, B)),
      // C's press at 4 s is owed to A and, through it, to D: neither has it (A's link).
      press(C, 4000, stamp(4, C)),
      // The same list again (a config answered unchanged): no change.
      sources(A, 5000, [C]),
    ]);
    c.finish();
    const lost = c.checker.slow
      .filter((p) => p.appliedAt === undefined)
      .map((p) => `${p.source}@${p.pressAt}→${p.follower}`)
      .sort();
    expect(lost).toEqual([
      "n-0001@1000→n-0000",
      "n-0001@1000→n-0003",
      "n-0002@4000→n-0000",
      "n-0002@4000→n-0003",
    ]);
    expect(c.checker.counts()).toMatchObject({ presses: 4, deliveries: 2, lostForGood: 4 });
    expect(c.pairing).toEqual(
      new Map([
        [A, [C]],
        [D, [A]],
      ]),
    );
    expect(c.live?.report(1000)).toEqual({
      changes: 1,
      nodes: 1,
      firstAtMs: 1000,
      lastAtMs: 1000,
      differAtEnd: 1,
      list: [{ atMs: 1000, node: A, follows: [C], followed: [B] }],
    });
    expect(lines).toEqual([
      "pairing changed at the nodes: n-0000 now follows n-0002 (it followed n-0001); presses from then on are judged against the new pairing",
    ]);
  });

  it("leaves a collector given a reach alone (a shard's), and reports nothing when nothing changed", () => {
    const c = new Collector(new Map([[B, [A]]]));
    c.push([sources(A, 10, [C]), press(B, 100, stamp(1, B))]);
    c.finish();
    expect(c.pairing).toBeUndefined();
    expect(c.checker.counts()).toMatchObject({ lostForGood: 1 });
    const same = Collector.following(new Map([[A, [B, C]]]));
    same.push([sources(A, 10, [C, B])]);
    same.finish();
    expect(same.live?.report(0)).toBeUndefined();
  });
});

describe("LivePairing", () => {
  it("counts a node re-paired and back as changed, not as differing at the end; unpaired as following nobody", () => {
    const p = new LivePairing(new Map([[A, [B]]]));
    p.update(A, [C], 10);
    p.update(A, [B], 20);
    p.update(D, [A], 30);
    p.update(D, [], 40);
    expect(p.current).toEqual(new Map([[A, [B]]]));
    expect(p.report(0)).toMatchObject({ changes: 4, nodes: 2, firstAtMs: 10, lastAtMs: 40, differAtEnd: 0 });
  });

  it("logs the first changes one by one, then says the rest are only counted", () => {
    const change = { at: 0, node: A, sources: [], was: [B] };
    expect(pairingChangeLine(change, 1)).toBe(
      "pairing changed at the nodes: n-0000 now follows nobody (it followed n-0001); presses from then on are judged against the new pairing",
    );
    expect(pairingChangeLine(change, PAIRING_CHANGES_LISTED + 1)).toMatch(/further changes are not logged/);
    expect(pairingChangeLine(change, PAIRING_CHANGES_LISTED + 2)).toBeUndefined();
  });
});
