/**
 * A report or config the broker delivers from its retained copy as the service subscribes is told
 * `replayed` on its `updated` effect (the service's `twin-updated` event carries it): the state is
 * news to the service, but no node sent it then, and the sync latency must not time it as a delivery
 * (view/latency.ts). What a node sends live is not flagged.
 */
import { expect, it } from "vitest";
import { Prefix } from "../../protocol/index.js";
import { TwinRegistry } from "../registry.js";

it("flags a report and a config replayed from the broker's retained copy, not those sent live", () => {
  const r = new TwinRegistry(Prefix("tf"));
  expect(r.receive("tf/config/A", "C1 1 B", 0, 0, true)).toContainEqual({
    type: "updated",
    node: "A",
    change: "config",
    replayed: true,
  });
  expect(r.receive("tf/report/B", "R1 1 5 B", 0, 0, true)).toEqual([
    { type: "updated", node: "B", change: "report", replayed: true },
  ]);
  expect(r.receive("tf/report/A", "R1 1 5 B", 0, 0, true)).toEqual([
    { type: "updated", node: "A", change: "report", replayed: true },
  ]);
  expect(r.receive("tf/report/B", "R1 0 6 B", 0, 10)).toEqual([
    { type: "updated", node: "B", change: "report" },
  ]);
  expect(r.receive("tf/config/A", "C1 2 B C", 0, 10)).toContainEqual({
    type: "updated",
    node: "A",
    change: "config",
  });
});
