/** The line a run logs when its topology replaces pairings the broker held for its node ids. */
import { expect, it } from "vitest";
import { NodeId } from "../../protocol/index.js";
import { replacedPairingsLine } from "../replaced-pairings.js";

const ids = ["n-0000", "n-0001", "n-0002"].map(NodeId);
const pairing = new Map([
  [NodeId("n-0000"), [NodeId("n-0002")]],
  [NodeId("n-0001"), [NodeId("n-0000")]],
  [NodeId("n-0002"), [NodeId("n-0001")]],
]);

it("names each node whose desired or reported sources the run drops, and nothing when it drops none", () => {
  const twins = new Map([
    ["n-0000", { desired: { sources: ["n-0002"] }, config: { sources: ["n-0002"] } }],
    // An operator's pairing, desired and reported.
    ["n-0001", { desired: { sources: ["lamp-1", "n-0000"] }, config: { sources: ["lamp-1", "n-0000"] } }],
    // Reported by the node only (a retained config the service took before its desire).
    ["n-0002", { desired: { sources: [] }, config: { sources: ["switch-7"] } }],
  ]);
  expect(replacedPairingsLine((id) => twins.get(id), ids, pairing)).toBe(
    "this run pairs its nodes as its topology says, replacing the pairing of 2 nodes held on the broker: n-0001 no longer follows lamp-1; n-0002 no longer follows switch-7",
  );
  // The same run again: its own pairing is what the broker holds.
  const again = new Map(ids.map((id) => [id, { desired: { sources: pairing.get(id) ?? [] } }]));
  expect(replacedPairingsLine((id) => again.get(id), ids, pairing)).toBeUndefined();
  // A fresh broker: no twins yet.
  expect(replacedPairingsLine(() => undefined, ids, pairing)).toBeUndefined();
});

it("names five and sums the rest", () => {
  const many = Array.from({ length: 8 }, (_, i) => NodeId(`n-${String(i).padStart(4, "0")}`));
  const line = replacedPairingsLine(() => ({ desired: { sources: ["lamp-1"] } }), many, new Map());
  expect(line).toMatch(/replacing the pairing of 8 nodes .*n-0004 no longer follows lamp-1; and 3 more$/);
});
