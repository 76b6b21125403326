/**
 * What the broker holds for each node, as the twins service saw it since it last subscribed
 * (twins/broker-copy.ts): a report older than the twin's, or none, is put back; a node that
 * registers while the broker holds no config of it booted following nobody, and its pairing is
 * pending again. An in-memory broker restarted empty while every node lost its power left the fleet
 * following nobody, the twins showing the pairings confirmed and the nodes' pre-fault states as
 * current, and warning of every later press as `stale-report`.
 */
import { describe, expect, it } from "vitest";
import { NodeId, Prefix } from "../../protocol/index.js";
import { TwinRegistry } from "../registry.js";

const A = NodeId("A");
const B = NodeId("B");

/** A follows B, confirmed, and holds B's 5@B; the service then lost the broker and subscribed again. */
function afterBrokerRestart(): TwinRegistry {
  const r = new TwinRegistry(Prefix("tf"));
  r.brokerSession();
  r.receive("tf/status/A", "T1 1", 1, 0);
  r.receive("tf/register/A", "G1 sim uno-w5100 1.0.0", 0, 0);
  r.receive("tf/config/A", "C1 1 B", 1, 0);
  r.receive("tf/report/B", "R1 1 5 B", 0, 0);
  r.receive("tf/report/A", "R1 1 5 B", 0, 0);
  expect(r.get(A)).toMatchObject({ pairing: "confirmed", follows: ["B"] });
  r.brokerSession();
  return r;
}

describe("the broker's copy of a node's report", () => {
  it("is put back when the broker replayed none, or replays or is written an older one", () => {
    const r = afterBrokerRestart();
    // Nothing replayed: both twins' reports are due.
    expect(r.putBacksDue()).toEqual([A, B]);
    // The broker replays B's (kept) and an older one of A's (it died before storing the newest).
    expect(r.receive("tf/report/B", "R1 1 5 B", 0, 1, true)).toEqual([]);
    expect(r.receive("tf/report/A", "R1 0 3 A", 0, 1, true)).toEqual([{ type: "put-back", node: A }]);
    expect(r.putBacksDue()).toEqual([A]);
    // The service's own put-back comes back: the broker holds the twin's.
    expect(r.receive("tf/report/A", "R1 1 5 B", 1, 2)).toEqual([]);
    expect(r.putBacksDue()).toEqual([]);
    // A rebooted A publishes its power-on state over it: the twin's goes back again; not bad input.
    expect(r.receive("tf/report/A", "R1 0 0 A", 0, 3)).toEqual([{ type: "put-back", node: A }]);
    expect(r.badInput().total).toBe(0);
    expect(r.get(A)).toMatchObject({ reported: { on: true, stamp: { counter: 5, origin: "B" } } });
  });

  it("is not put back for an older replay after a newer write, nor after the report was cleared", () => {
    const r = afterBrokerRestart();
    expect(r.receive("tf/report/A", "R1 0 6 A", 0, 1)).toMatchObject([{ type: "updated", node: A }]);
    // The replay of the broker's copy from before the write overtook it: the write is what it holds.
    expect(r.receive("tf/report/A", "R1 1 5 B", 0, 1, true)).toEqual([]);
    expect(r.putBacksDue()).toEqual([B]);
    // An operator cleared B's report: the twin forgets it too, and nothing goes back.
    r.receive("tf/report/B", "", 1, 2);
    expect(r.putBacksDue()).toEqual([]);
  });
});

describe("a node registering while the broker holds no config of it", () => {
  it("booted following nobody: its confirmed pairing is pending again and sent", () => {
    const r = afterBrokerRestart();
    // No config replayed, and the node published none before its register: it is at version 0.
    const fx = r.receive("tf/register/A", "G1 sim uno-w5100 1.0.0", 0, 1);
    expect(fx).toContainEqual({ type: "reconcile", node: A });
    expect(r.get(A)).toMatchObject({ pairing: "pending", follows: [], desired: { sources: ["B"] } });
    expect(r.get(B)?.followers).toEqual([]);
    // It answers the re-sent F1 with its config, version 1 again: the pairing is confirmed, not stale.
    r.receive("tf/config/A", "C1 1 B", 1, 2);
    expect(r.get(A)).toMatchObject({ pairing: "confirmed", follows: ["B"] });
    expect(r.badInput().total).toBe(0);
  });

  it("changes nothing when the broker replayed its config, or the node put its own back", () => {
    const replayed = afterBrokerRestart();
    replayed.receive("tf/config/A", "C1 1 B", 1, 1, true);
    expect(replayed.receive("tf/register/A", "G1 sim uno-w5100 1.0.0", 0, 1)).toEqual([
      { type: "registered", node: A, first: false },
    ]);
    expect(replayed.get(A)).toMatchObject({ pairing: "confirmed", follows: ["B"] });
    // A node that kept its RAM puts its config back before its register (protocol §5.1).
    const kept = afterBrokerRestart();
    kept.receive("tf/config/A", "C1 1 B", 1, 1);
    kept.receive("tf/register/A", "G1 sim uno-w5100 1.0.0", 0, 1);
    expect(kept.get(A)).toMatchObject({ pairing: "confirmed", follows: ["B"] });
  });
});
