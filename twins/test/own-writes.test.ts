/**
 * The service's own pairings sent within a round trip (twins/own-writes.ts): the node's configs of the
 * older ones, coming behind, are its own commands carried out, not another control tool's.
 */
import { expect, it } from "vitest";
import { NodeId, Prefix } from "../../protocol/index.js";
import { TwinRegistry } from "../registry.js";

const A = NodeId("A");
const C = NodeId("C");

/** A online, registered. */
function online(): TwinRegistry {
  const r = new TwinRegistry(Prefix("tf"));
  r.receive("tf/status/A", "T1 1", 0, 0);
  r.receive("tf/register/A", "G1 sim uno-w5100 1.0.0", 0, 0);
  return r;
}

it("takes the node's configs of this service's own older pairings, sent just before, for its own", () => {
  // A pairing, an unpair and a pairing again sent within a round trip, as the service writes them
  // (twins/desire-change.ts: the desire at the node's version seen, carried above it). The node
  // carries them out in order and publishes a config after each; all three come after the last.
  const r = online();
  r.receive("tf/config/A", "C1 3", 0, 0); // A follows nothing, at version 3
  r.setDesiredSources(A, [C], 3, 4); // pair: A follows C
  r.setDesiredSources(A, [], 3, 4); // unpair
  r.setDesiredSources(A, [C], 3, 4); // pair again, answered 200 and saved
  r.receive("tf/config/A", "C1 4 C", 0, 1); // the first pairing carried out: the desire's sources
  r.receive("tf/config/A", "C1 5", 0, 2); // the unpair carried out: this service's own, not another tool's
  // Before, the unpair replaced the desire, saved so, until the node's next config.
  expect(r.get(A)).toMatchObject({ pairing: "pending", desired: { sources: ["C"] } });
  expect(r.snapshot().nodes.A).toMatchObject({ sources: ["C"], pending: true });
  r.receive("tf/config/A", "C1 6 C", 0, 3); // the last pairing carried out
  expect(r.get(A)).toMatchObject({ pairing: "confirmed", desired: { sources: ["C"], configVersion: 6 } });
  // Confirmed at the newest write, its older ones are done: another tool's command is taken again.
  r.receive("tf/config/A", "C1 7", 0, 4);
  expect(r.get(A)).toMatchObject({ pairing: "confirmed", desired: { sources: [], configVersion: 7 } });
});
