/**
 * Overlapping faults on virtual time: an in-memory broker restarted empty, and every node's power cut
 * while it is down. The nodes boot at config version 0 with the zero stamp into a broker that holds
 * nothing, so the twins service holds the fleet's only copy of its state and pairings: it puts the
 * reports back and sends the pairings again (protocol §6, "The broker's copy"). Before, every node
 * followed nobody after the faults, the twins still showed the pairings confirmed, and the presses
 * made after recovery reached no follower.
 */
import { describe, expect, it } from "vitest";
import type { FleetOptions } from "../options.js";
import { runFleet } from "../run.js";

const fleet: FleetOptions = {
  clock: "virtual",
  nodes: 24,
  durationS: 30,
  settleS: 5,
  ratePerNodePerMin: 12,
  topology: "random",
  seed: "overlap",
  faults: [
    { kind: "broker-restart", atS: 8, downS: 5 },
    { kind: "power-outage", atS: 9, offS: 2, nodes: "all" },
  ],
};

describe("a broker restarted empty while every node loses power", () => {
  it("gets the fleet's state and pairings back from the twins: nothing diverged", async () => {
    const r = await runFleet(fleet);
    expect(r.faults.map((f) => f.error)).toEqual([undefined, undefined]);
    expect(r.twinsView).toEqual({ known: 24, online: 24, desiredAsPaired: 24, pairingConfirmed: 24 });
    expect(r.regressions).toBe(0);
    expect(r.diverged).toBe(0);
    // Lost for good: only the presses the nodes held while the broker was away, which the power cut
    // took with their RAM (docs/faults.md, "A power cut while the nodes are still coming back").
    expect(r.lostForGood).toBe(r.lostWithPower);
  });
});
