// How far a latency across shards can be out (fleet/shard-offsets.ts): each shard report records how
// close its clock is to its host's date (the clock probe's `originUncertaintyMs`), and the merged
// report states, per shard and for the fleet, the bound that leaves on every latency across shards,
// which `report show` of the merged report prints (docs/shards.md, "Clock offsets").

import type mqtt from "mqtt";
import { describe, expect, it } from "vitest";
import { mergeShards } from "../../fleet/shard-merge.js";
import { crossShardErrorMaxMs, shardOffsets } from "../../fleet/shard-offsets.js";
import { ClockProbe } from "../../fleet/shard-probe.js";
import { checkShardFile, type ShardFile, ShardFileError } from "../../fleet/shard-report.js";
import { fleetOfTwo } from "../../fleet/test/ring-of-four.js";
import { datedZero, FakeScheduler } from "../../node/scheduler.js";
import { mergedSummary } from "../commands/report-run.js";

/** Shard `index`'s file as the offsets read it: its host, its clock's bound, the probes it heard. */
const clockOf = (index: number, hostname: string, bound: number | undefined, received: object) =>
  ({
    shard: { index, count: 3 },
    hostname,
    probes: {
      everyMs: 500,
      sent: 10,
      received,
      ...(bound === undefined ? {} : { originUncertaintyMs: bound }),
    },
  }) as unknown as ShardFile;

/** fleetOfTwo on one host, each clock its host's date to within `bounds`; shard 2 uncorrected if `deaf`. */
function onOneHost(bounds: [number, number], deaf = false): ShardFile[] {
  return fleetOfTwo().map((f, i) => ({
    ...f,
    hostname: "rig",
    probes: {
      ...f.probes,
      originUncertaintyMs: bounds[i] as number,
      ...(deaf ? { received: { [String(i + 1)]: { count: 100, minDeltaMs: 4 } } } : {}),
    },
  }));
}

describe("the bound on a latency across shards", () => {
  it("is in each shard's report: its clock's date to within its bound and any hold between the reads", () => {
    // now() read at 10 and, held 12 ms, at 22 around a date that is the host's (1000 + 16, to 0.0123 ms).
    const reads = [10, 22];
    const held = Object.assign(new FakeScheduler(), {
      now: () => reads.shift() as number,
      wallNow: () => 1016,
      wallBoundMs: () => 0.0123,
    });
    const zero = datedZero(held);
    // `wallNow() - now()` read one after the other said 1006, 6 ms late, with nothing to tell.
    expect(zero.dateMs).toBe(1000);
    expect(zero.boundMs).toBeCloseTo(6.0123, 9);
    const client = { on: () => client } as unknown as mqtt.MqttClient;
    const topics = { mine: "tf/p/s/1", all: "tf/p/s/+" };
    const probe = new ClockProbe(client, topics, 1, new FakeScheduler(), zero.dateMs, zero.boundMs);
    expect(probe.stop().originUncertaintyMs).toBe(6.013);
    // A virtual clock is its date exactly.
    expect(datedZero(new FakeScheduler(0, 5000))).toEqual({ dateMs: 5000, boundMs: 0 });
  });

  it("adds the two largest shards' bounds: a pair of shards 2 and 3 can be out by both", () => {
    const files = [
      clockOf(1, "a", 0.01, {
        "1": { count: 9, minDeltaMs: 4 },
        "2": { count: 9, minDeltaMs: 2 },
        "3": { count: 9, minDeltaMs: 3 },
      }),
      clockOf(2, "b", 0.01, { "1": { count: 9, minDeltaMs: 2 } }),
      clockOf(3, "c", 0.01, { "1": { count: 9, minDeltaMs: 3 } }),
    ];
    const offsets = shardOffsets(files);
    expect(offsets.map((o) => o.boundMs)).toEqual([0, 2, 3]);
    // Shard 2 early by 2 ms and shard 3 late by 3 ms: a press on 2 applied on 3 is 5 ms out.
    expect(crossShardErrorMaxMs(offsets)).toBe(5);
  });

  it("bounds an uncorrected shard on shard 1's host by the two clocks' bounds, and not on another host", () => {
    const ref = clockOf(1, "rig", 0.012, { "1": { count: 9, minDeltaMs: 4 } });
    const deaf = (host: string, bound?: number) =>
      clockOf(2, host, bound, { "2": { count: 9, minDeltaMs: 4 } });
    const [, same] = shardOffsets([ref, deaf("rig", 0.02)]);
    expect(same).toMatchObject({ uncertaintyMs: null, originUncertaintyMs: 0.02, boundMs: 0.032 });
    expect(shardOffsets([ref, deaf("elsewhere", 0.02)])[1]?.boundMs).toBeNull();
    // A report from before the bound was recorded: unknown.
    expect(shardOffsets([ref, deaf("rig")])[1]).toMatchObject({ originUncertaintyMs: null, boundMs: null });
    expect(crossShardErrorMaxMs(shardOffsets([ref, deaf("rig")]))).toBeNull();
  });

  it("is in the merged report and its summary, per shard and for the fleet", () => {
    const r = mergeShards(["a.json", "b.json"], onOneHost([0.012, 0.02]));
    expect(r.shards.lines.map((l) => l.originUncertaintyMs)).toEqual([0.012, 0.02]);
    expect(r.shards.crossShardErrorMaxMs).toBe(2);
    const text = mergedSummary(r);
    expect(text).toContain("offsets within 2.0 ms, so a latency across shards is out by at most 2.0 ms");
    expect(text).toMatch(
      /shard 2 .*clock \+1000\.0 ms ± 2\.0 ms \(round trip 4\.0 ms; its host's date ± 0\.020 ms\)/,
    );
    // No probe crossed: uncorrected, and on one host out by the two clocks' bounds at most.
    const deaf = mergeShards(["a.json", "b.json"], onOneHost([0.012, 0.02], true));
    expect(deaf.shards.offsetUncertaintyMaxMs).toBeNull();
    expect(deaf.shards.crossShardErrorMaxMs).toBe(0.032);
    expect(mergedSummary(deaf)).toContain("so a latency across shards is out by at most 0.032 ms");
    // Shards on two hosts, uncorrected: the summary says the bound is unknown.
    const [a, b] = onOneHost([0.012, 0.02], true);
    const apart = mergeShards(
      ["a.json", "b.json"],
      [a as ShardFile, { ...(b as ShardFile), hostname: "other" }],
    );
    expect(mergedSummary(apart)).toContain("so a latency across shards is out by an unknown amount");
  });

  it("is flagged when it is a quarter of the p50 across shards or more, not at an ordinary bound", () => {
    // Every probe's quickest trip through the broker held up `ms` more (a loaded host): wider offsets.
    const held = (ms: number) =>
      fleetOfTwo().map((f) => {
        const other = String(3 - f.shard.index);
        const trip = f.probes.received[other] as { count: number; minDeltaMs: number };
        const received = { ...f.probes.received, [other]: { ...trip, minDeltaMs: trip.minDeltaMs + ms } };
        return { ...f, probes: { ...f.probes, received } };
      });
    const wide = mergeShards(["a.json", "b.json"], held(10));
    expect(wide.shards.crossShardErrorMaxMs).toBe(12);
    expect(wide.shards.crossShardSync.p50Ms).toBeCloseTo(40, 1);
    expect(mergedSummary(wide)).toContain(
      "\n       UNCERTAIN      the latencies across shards carry ± 12.0 ms, 30 % of their p50: ",
    );
    // 9.9 ms is under a quarter of 40 ms: printed as ever, not flagged; nor the 2 ms of quick probes.
    const fair = mergeShards(["a.json", "b.json"], held(7.9));
    expect(fair.shards.crossShardErrorMaxMs).toBe(9.9);
    expect(mergedSummary(fair)).not.toContain("UNCERTAIN");
    expect(mergedSummary(mergeShards(["a.json", "b.json"], fleetOfTwo()))).not.toContain("UNCERTAIN");
  });

  it("refuses a shard report whose bound is not a number ≥ 0", () => {
    const [s1] = fleetOfTwo();
    const bad = { ...s1, probes: { ...s1.probes, originUncertaintyMs: -1 } };
    expect(() => checkShardFile("s1.json", bad)).toThrow(ShardFileError);
    expect(() => checkShardFile("s1.json", bad)).toThrow(
      "s1.json: probes.originUncertaintyMs must be a number ≥ 0, got -1",
    );
    expect(checkShardFile("s1.json", JSON.parse(JSON.stringify(s1)))).toBeTruthy();
  });
});
