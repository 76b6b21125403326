/**
 * A state that stood when the service subscribed is told `replayed` on its `updated` effect (the
 * service's `twin-updated` event carries it): a report or config the broker delivers from its
 * retained copy, or a node's first report since (its answer to the service's query, which can come
 * before the broker's copy). The state is news to the service, but no node changed it then, and the
 * sync latency must not time it as a delivery (view/latency.ts). What a node sends later is not.
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

it("flags a node's first report since the subscription, its answer to a query overtaking the broker's copy", () => {
  const r = new TwinRegistry(Prefix("tf"));
  r.receive("tf/report/A", "R1 1 5 A", 0, 0, true);
  r.brokerSession(); // reconnected: subscribed afresh
  expect(r.receive("tf/report/A", "R1 0 7 A", 0, 10)).toEqual([
    { type: "updated", node: "A", change: "report", replayed: true },
  ]);
  expect(r.receive("tf/report/A", "R1 0 7 A", 0, 11, true)).toEqual([]); // the broker's copy, after
  expect(r.receive("tf/report/A", "R1 1 8 A", 0, 20)).toEqual([
    { type: "updated", node: "A", change: "report" },
  ]);
});
