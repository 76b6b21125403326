/**
 * Every report and config that stood when the service subscribed is told (the registry's `stood`,
 * the service's `state-replayed` event), whether or not it differs from the twin: after a broker
 * restart the replay is mostly what the service held, and the log counted only what differed
 * (`0 configs` of a broker that replayed every pairing).
 */
import { expect, it } from "vitest";
import { NodeId, Prefix } from "../../protocol/index.js";
import { TwinRegistry } from "../registry.js";

const A = NodeId("A");

it("tells a replayed config and report the same as the twin's as stood, without showing a change", () => {
  const r = new TwinRegistry(Prefix("tf"));
  const stood: string[] = [];
  r.stood = (node, change) => stood.push(`${change} ${node}`);
  expect(r.receive("tf/config/A", "C1 3 B", 0, 0, true)).toContainEqual({
    type: "updated",
    node: A,
    change: "config",
    replayed: true,
  });
  r.receive("tf/report/A", "R1 1 5 B", 0, 0, true);
  expect(stood).toEqual(["config A", "report A"]);
  const version = r.get(A)?.version;
  // The broker restarted from its store and replays the same two to the resubscribed service.
  r.brokerSession();
  expect(r.receive("tf/config/A", "C1 3 B", 0, 1000, true)).toEqual([]);
  expect(r.receive("tf/report/A", "R1 1 5 B", 0, 1000, true)).toEqual([]);
  expect(stood).toEqual(["config A", "report A", "config A", "report A"]);
  expect(r.get(A)?.version).toBe(version);
  // Written live, neither stood.
  r.receive("tf/config/A", "C1 4 B", 0, 2000);
  r.receive("tf/report/A", "R1 0 6 A", 0, 2000);
  expect(stood).toHaveLength(4);
});
