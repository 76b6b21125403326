/**
 * Shard reports for the merge's tests: one with what a test does not look at filled in, and a
 * synthetic sharded fleet — rings of 8 dealt out over the shards as
 * shardSlice deals them, seeded presses, and each follower applying each press after a seeded delay
 * (a few past the lost limit, a few never), one press per shard held and never published; shard k's
 * clock reads 7·(k−1) ms ahead of shard 1's, as its probes show.
 */
import { nodeRandom } from "../../node/rng.js";
import type { NodeId } from "../../protocol/index.js";
import { Distribution } from "../../sim/histogram.js";
import { noLinkTotals } from "../../sim/messages.js";
import { buildPairing, fleetIds, followersReach } from "../../sim/topology.js";
import { shardOfIndex } from "../shard-plan.js";
import { SHARD_REPORT_FORMAT, type ShardFile } from "../shard-report.js";

/** An encoded registration histogram of `values` (ms). */
export function hist(values: readonly number[] = []): string {
  const d = new Distribution(1000, 3_600_000);
  for (const v of values) d.record(v);
  return d.encode();
}

/** A merge test's scenario: a ring fleet at 1 press/node/min for 60 s; `fields` sets what differs. */
export function testFleet(
  fields: Pick<ShardFile["fleet"], "fingerprint" | "nodes" | "groupSize" | "seed">,
): ShardFile["fleet"] {
  return {
    profile: "uno-w5100",
    topology: "ring",
    ratePerNodePerMin: 1,
    lossPct: 0,
    durationS: 60,
    settleS: 10,
    prefix: "fleet",
    ...fields,
  };
}

/** Shard `index` of `count`: no presses, no applies, no probes, unless `fields` says otherwise. */
export function shardFile(
  index: number,
  count: number,
  fields: Pick<ShardFile, "fleet" | "nodes"> & Partial<ShardFile>,
): ShardFile {
  return {
    format: SHARD_REPORT_FORMAT,
    shard: { index, count },
    broker: "mqtt://127.0.0.1:1883",
    hostname: `host-${index}`,
    startedAtMs: 0,
    pressStartMs: 5000,
    endMs: 90_000,
    cutShort: false,
    pairing: {},
    presses: [],
    applies: [],
    originated: {},
    finals: fields.nodes.map((n) => [n, false, `0@${n}`, 3, true] as const),
    registrationMs: {},
    histograms: { registration: hist(), echo: hist(), localSync: hist() },
    counts: { presses: 0, applies: 0, localDeliveries: 0, localLost: 0, regressions: 0, disconnects: 0 },
    link: { ...noLinkTotals(), segments: 10 },
    sim: { lagP99Ms: 5, lagMaxMs: 20, rssMB: 100, workers: 1, wallS: 80 },
    twinsView: { known: 0, online: 0, desiredAsPaired: 0, pairingConfirmed: 0 },
    probes: { everyMs: 500, sent: 0, received: {} },
    ...fields,
  };
}

type Press = [string, string | null, number];
type Apply = [string, string, number];

export function syntheticShards(
  nodes: number,
  shards: number,
  pressesPerNode: number,
  seed: string,
): ShardFile[] {
  const ids = fleetIds(nodes);
  const pairing = buildPairing(ids, { kind: "ring", groupSize: 8 });
  const reach = followersReach(pairing);
  const shardOf = new Map(ids.map((id, i) => [id, shardOfIndex(i, shards)]));
  const skew = (k: number) => 7 * (k - 1);
  const presses: Press[][] = Array.from({ length: shards }, () => []);
  const applies: Apply[][] = Array.from({ length: shards }, () => []);
  const onShard = (id: string) => (shardOf.get(id as NodeId) as number) - 1;
  for (const s of ids) {
    const rand = nodeRandom(seed, s, "press");
    const k = onShard(s);
    for (let c = 1; c <= pressesPerNode; c++) {
      const at = 5000 + Math.floor(rand() * 60_000);
      const stamp = `${c}@${s}`;
      presses[k]?.push([s, stamp, at + skew(k + 1)]);
      applies[k]?.push([s, stamp, at + skew(k + 1)]);
      for (const f of reach.get(s) ?? []) {
        const r = rand();
        if (r < 0.02) continue;
        const delay = r < 0.05 ? 6000 : 5 + Math.round(rand() * 800) / 10;
        const j = onShard(f);
        applies[j]?.push([f, stamp, at + delay + skew(j + 1)]);
      }
    }
  }
  return Array.from({ length: shards }, (_, k) => {
    const index = k + 1;
    const mine = ids.filter((id) => shardOf.get(id) === index);
    const held = mine[0] as string;
    presses[k]?.push([held, null, 30_000 + skew(index)]);
    const received: Record<string, { count: number; minDeltaMs: number }> = {};
    for (let o = 1; o <= shards; o++)
      received[String(o)] = { count: 50, minDeltaMs: 2 + skew(index) - skew(o) };
    return shardFile(index, shards, {
      fleet: testFleet({ fingerprint: "synthetic", nodes, groupSize: 8, seed }),
      nodes: mine,
      pairing: Object.fromEntries(mine.map((id) => [id, [...(pairing.get(id) ?? [])]])),
      presses: presses[k] as Press[],
      applies: applies[k] as Apply[],
      registrationMs: Object.fromEntries(mine.map((id) => [id, 1500])),
      histograms: { registration: hist(mine.map(() => 1500)), echo: hist(), localSync: hist() },
      counts: {
        presses: presses[k]?.length ?? 0,
        applies: applies[k]?.length ?? 0,
        localDeliveries: 0,
        localLost: 0,
        regressions: 0,
        disconnects: 0,
      },
      twinsView: {
        known: mine.length,
        online: mine.length,
        desiredAsPaired: mine.length,
        pairingConfirmed: 0,
      },
      probes: { everyMs: 500, sent: 50, received },
    });
  });
}
