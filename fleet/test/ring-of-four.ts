/**
 * Two shard reports of one small fleet for the merge's tests: the shard files and the pressed ring
 * that crosses them.
 */
import type { ClaimReport } from "../claim-report.js";
import type { ShardFile } from "../shard-report.js";
import { hist, shardFile, testFleet } from "./shard-fleet.js";

/**
 * A ring of 4 (each follows the one before it) over two shards: shard 1 runs n-0000 and n-0002,
 * shard 2 runs n-0001 and n-0003. Shard 2's clock reads 1000 ms more than shard 1's; its probes see
 * 2 ms through the broker each way.
 */
export const SKEW = 1000;
export const pairing = {
  "n-0000": ["n-0003"],
  "n-0001": ["n-0000"],
  "n-0002": ["n-0001"],
  "n-0003": ["n-0002"],
};

function shard(index: 1 | 2, over: Partial<ShardFile> = {}): ShardFile {
  const nodes = index === 1 ? ["n-0000", "n-0002"] : ["n-0001", "n-0003"];
  const other = index === 1 ? 2 : 1;
  return shardFile(index, 2, {
    fleet: testFleet({ fingerprint: "f00d", nodes: 4, groupSize: 4, seed: "s" }),
    nodes,
    pairing: Object.fromEntries(nodes.map((n) => [n, pairing[n as keyof typeof pairing]])),
    registrationMs: Object.fromEntries(nodes.map((n, i) => [n, 1000 * (index + i)])),
    histograms: {
      registration: hist(nodes.map((_, i) => 1000 * (index + i))),
      echo: hist(),
      localSync: hist(),
    },
    sim: { lagP99Ms: 10 * index, lagMaxMs: 20, rssMB: 100, workers: 1, wallS: 80 },
    twinsView: { known: 2, online: 2, desiredAsPaired: 2, pairingConfirmed: 2 },
    probes: {
      everyMs: 500,
      sent: 100,
      received: {
        [String(index)]: { count: 100, minDeltaMs: 4 },
        // Shard 2 stamps 1000 ms ahead: 1 → 2 looks 1000 ms slower, 2 → 1 1000 ms quicker.
        [String(other)]: { count: 99, minDeltaMs: index === 2 ? 2 + SKEW : 2 - SKEW },
      },
    },
    ...over,
  });
}

/** A press on each shard, every follower applying it but n-0000 the second one; shard 2's times on its own clock. */
export function fleetOfTwo(): [ShardFile, ShardFile] {
  const s1 = shard(1, {
    presses: [["n-0000", "1@n-0000", 10_000]],
    applies: [
      ["n-0000", "1@n-0000", 10_000],
      ["n-0002", "1@n-0000", 10_060],
      ["n-0002", "2@n-0001", 20_030],
    ],
    originated: { "n-0000": "1@n-0000" },
    finals: [
      ["n-0000", true, "1@n-0000", 3, true],
      ["n-0002", false, "2@n-0001", 3, true],
    ],
    counts: { presses: 1, applies: 3, localDeliveries: 1, localLost: 0, regressions: 0, disconnects: 0 },
  });
  const s2 = shard(2, {
    presses: [["n-0001", "2@n-0001", 20_000 + SKEW]],
    applies: [
      ["n-0001", "1@n-0000", 10_040 + SKEW],
      ["n-0003", "1@n-0000", 10_080 + SKEW],
      ["n-0001", "2@n-0001", 20_000 + SKEW],
      ["n-0003", "2@n-0001", 20_050 + SKEW],
    ],
    originated: { "n-0001": "2@n-0001" },
    finals: [
      ["n-0001", false, "2@n-0001", 3, true],
      ["n-0003", false, "2@n-0001", 3, true],
    ],
    counts: { presses: 1, applies: 4, localDeliveries: 1, localLost: 0, regressions: 0, disconnects: 0 },
  });
  return [s1, s2];
}

/**
 * fleetOfTwo with shard 2 cut short (SIGTERM) 25 s into the presses, and a press of n-0000 at 40 s
 * (on shard 1's clock) that shard 2's nodes were no longer there to take, nor n-0002, which follows
 * n-0001 (shard 2).
 */
export function fleetCutShort(): [ShardFile, ShardFile] {
  const [s1, s2] = fleetOfTwo();
  return [
    {
      ...s1,
      presses: [...s1.presses, ["n-0000", "3@n-0000", 40_000]],
      applies: [...s1.applies, ["n-0000", "3@n-0000", 40_000]],
      originated: { "n-0000": "3@n-0000" },
      finals: [["n-0000", true, "3@n-0000", 3, true], ...s1.finals.slice(1)],
      counts: { ...s1.counts, presses: 2, applies: 4 },
    },
    { ...s2, cutShort: true, pressStartMs: 5000 + SKEW, endMs: 30_000 + SKEW },
  ];
}

/** A shard's claim lost twice: cleared and held again, then its connection lost to the run's end. */
export const claimLost: ClaimReport = {
  topic: "fleet/claim/two",
  losses: [
    { atMs: 2_000, why: "cleared", heldAgainAfterMs: 300 },
    { atMs: 9_000, why: "connection", untilEndMs: 20_000 },
  ],
};

/** A shard that never held its claim: cleared in the claim step, given up after 10 s. */
export const claimNone: ClaimReport = {
  topic: "fleet/claim/one",
  losses: [],
  held: false,
  why: "cleared",
  waitedMs: 10_000,
};
