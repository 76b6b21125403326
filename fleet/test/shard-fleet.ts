/**
 * A synthetic sharded fleet for the merge's tests: rings of 8 dealt out over the shards as
 * shardSlice deals them, seeded presses, and each follower applying each press after a seeded delay
 * (a few past the lost limit, a few never), one press per shard held and never published; shard k's
 * clock reads 7·(k−1) ms ahead of shard 1's, as its probes show.
 */
import { nodeRandom } from "../../node/rng.js";
import type { NodeId } from "../../protocol/index.js";
import { Distribution } from "../../sim/histogram.js";
import { buildPairing, fleetIds, followersReach } from "../../sim/topology.js";
import { shardOfIndex } from "../shard-plan.js";
import { SHARD_REPORT_FORMAT, type ShardFile } from "../shard-report.js";

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
    const reg = new Distribution(1000, 3_600_000);
    for (const _ of mine) reg.record(1500);
    return {
      format: SHARD_REPORT_FORMAT,
      shard: { index, count: shards },
      fleet: {
        fingerprint: "synthetic",
        nodes,
        profile: "uno-w5100",
        topology: "ring",
        groupSize: 8,
        ratePerNodePerMin: 1,
        lossPct: 0,
        seed,
        durationS: 60,
        settleS: 10,
        prefix: "fleet",
      },
      broker: "mqtt://127.0.0.1:1883",
      hostname: `host-${index}`,
      startedAtMs: 0,
      pressStartMs: 5000,
      endMs: 80_000,
      cutShort: false,
      nodes: mine,
      pairing: Object.fromEntries(mine.map((id) => [id, [...(pairing.get(id) ?? [])]])),
      presses: presses[k] as Press[],
      applies: applies[k] as Apply[],
      originated: {},
      finals: mine.map((id) => [id, false, `0@${id}`, 2, true] as const),
      registrationMs: Object.fromEntries(mine.map((id) => [id, 1500])),
      histograms: { registration: reg.encode(), echo: reg.encode(), localSync: reg.encode() },
      counts: {
        presses: presses[k]?.length ?? 0,
        applies: applies[k]?.length ?? 0,
        localDeliveries: 0,
        localLost: 0,
        regressions: 0,
        disconnects: 0,
      },
      link: { segments: 1, retransmissions: 0, timeouts: 0, reconnects: 0, oversizedDropped: 0 },
      sim: { lagP99Ms: 5, lagMaxMs: 9, rssMB: 100, workers: 1, wallS: 80 },
      twinsView: {
        known: mine.length,
        online: mine.length,
        desiredAsPaired: mine.length,
        pairingConfirmed: 0,
      },
      probes: { everyMs: 500, sent: 50, received },
    };
  });
}
