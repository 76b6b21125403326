// The merge's replay over many shards: split by follower's shard it counts every pair as one checker
// over the whole fleet would, and each event reaches only the checkers it can change, so its cost
// does not grow with the number of shards.
import { afterEach, describe, expect, it, vi } from "vitest";
import type { NodeId, Stamp } from "../../protocol/index.js";
import { SyncChecker } from "../../sim/checker.js";
import { followersReach } from "../../sim/topology.js";
import { syncFields } from "../report.js";
import { mergeShards } from "../shard-merge.js";
import { parseStamp } from "../shard-replay.js";
import type { ShardFile } from "../shard-report.js";
import { syntheticShards } from "./shard-fleet.js";

const paths = (files: readonly ShardFile[]) => files.map((f) => `s${f.shard.index}.json`);

/** One checker over the whole fleet (or its cross-shard pairs only), fed every record on shard 1's clock. */
function wholeFleet(files: readonly ShardFile[], crossOnly: boolean): SyncChecker {
  const shardOf = new Map<string, number>();
  const pairing = new Map<NodeId, NodeId[]>();
  for (const f of files)
    for (const id of f.nodes) {
      shardOf.set(id, f.shard.index);
      pairing.set(id as NodeId, (f.pairing[id] ?? []) as NodeId[]);
    }
  const reach = new Map(
    [...followersReach(pairing)].map(([s, fs]) => [
      s,
      fs.filter((f) => !crossOnly || shardOf.get(f) !== shardOf.get(s)),
    ]),
  );
  const checker = new SyncChecker(reach);
  // The synthetic shard k's clock is 7·(k−1) ms ahead.
  const all: [number, number, string, Stamp | null][] = [];
  for (const f of files) {
    const off = 7 * (f.shard.index - 1);
    for (const [n, s, t] of f.presses)
      all.push([t - off, s === null ? 1 : 0, n, s === null ? null : parseStamp("", s)]);
    for (const [n, s, t] of f.applies) all.push([t - off, 2, n, parseStamp("", s)]);
  }
  all.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  for (const [at, kind, n, stamp] of all) {
    const node = n as NodeId;
    if (stamp === null) checker.unpublished(node, at);
    else if (kind === 0) checker.press({ node, stamp, at });
    else checker.applied({ node, stamp, at });
  }
  checker.finish();
  return checker;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("merge replay", () => {
  it("counts every pair, and the cross-shard ones, as one checker over the whole fleet does", () => {
    for (const shards of [3, 12]) {
      const files = syntheticShards(240, shards, 3, `replay-${shards}`);
      const merged = mergeShards(paths(files), files);
      const whole = wholeFleet(files, false);
      const n = whole.counts();
      expect(n.deliveries).toBeGreaterThan(1000);
      expect(n.late).toBeGreaterThan(0);
      expect(n.lostForGood).toBeGreaterThan(0);
      expect(merged).toMatchObject({
        deliveries: n.deliveries,
        superseded: n.superseded,
        lost: n.lost,
        late: n.late,
        lostForGood: n.lostForGood,
        sync: syncFields(whole.latency.summary()),
      });
      const cross = wholeFleet(files, true);
      const c = cross.counts();
      expect(merged.shards.crossShardPairs).toBe(c.deliveries + c.lost);
      expect(merged.shards.crossShardSync).toEqual(syncFields(cross.latency.summary()));
    }
  });

  it("hands each record to no more checkers than its node's shard's two and its followers' shards", () => {
    // Rings of 8: a press reaches the 7 others of its ring, each in another of the 16 shards (the
    // whole replay through all 32 checkers would be 32 calls a record).
    const files = syntheticShards(320, 16, 2, "calls");
    const press = vi.spyOn(SyncChecker.prototype, "press");
    const unpublished = vi.spyOn(SyncChecker.prototype, "unpublished");
    const applied = vi.spyOn(SyncChecker.prototype, "applied");
    const merged = mergeShards(paths(files), files);
    const presses = files.reduce((n, f) => n + f.presses.length, 0);
    const applies = files.reduce((n, f) => n + f.applies.length, 0);
    expect(merged.presses).toBe(presses);
    const pressCalls = press.mock.calls.length + unpublished.mock.calls.length;
    expect(pressCalls).toBeGreaterThanOrEqual(presses);
    expect(pressCalls).toBeLessThanOrEqual((2 + 7) * presses);
    // A press applies its own stamp at its node, inside the checker.
    expect(applied.mock.calls.length - press.mock.calls.length).toBeLessThanOrEqual(2 * applies);
  });
});
