/**
 * The shards' clock probes (fleet/shard-probe.ts) against a step of one host's date mid-run (NTP, a
 * resumed VM, `date -s`): the offset the merge finds must be the one between the shards' records'
 * clocks, which a step does not move. Two probes on fake clocks, lock-stepped, through a fake broker
 * that delivers every probe to every shard 1 ms after it was sent.
 */
import { EventEmitter } from "node:events";
import type mqtt from "mqtt";
import { describe, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { shardOffsets } from "../shard-offsets.js";
import { ClockProbe, type ProbeRecord, probeTopic } from "../shard-probe.js";
import type { ShardFile } from "../shard-report.js";

const HOUR_MS = 3_600_000;
const START_DATE = Date.UTC(2026, 0, 5, 9, 0, 0);

/** A shard: its clock (dated `aheadMs` ahead of shard 1's) and its probe's client. */
interface Shard {
  readonly sched: FakeScheduler;
  readonly client: EventEmitter;
  probe?: ClockProbe;
}

async function run(stepOf2: { atMs: number; byMs: number } | undefined, aheadMs = 0) {
  const shards: Shard[] = [0, aheadMs].map((ahead) => ({
    sched: new FakeScheduler(0, START_DATE + ahead),
    client: new EventEmitter(),
  }));
  const inFlight: { at: number; topic: string; payload: Buffer }[] = [];
  for (const [i, s] of shards.entries()) {
    Object.assign(s.client, {
      subscribeAsync: async () => [],
      publish: (topic: string, body: string) => {
        inFlight.push({ at: s.sched.now() + 1, topic, payload: Buffer.from(body) });
      },
    });
    const index = i + 1;
    s.probe = new ClockProbe(
      s.client as unknown as mqtt.MqttClient,
      { mine: probeTopic("tf", "seed", index), all: probeTopic("tf", "seed", "+") },
      index,
      s.sched,
      s.sched.wallNow() - s.sched.now(),
      0,
    );
    await s.probe.start();
  }
  for (let t = 1; t <= 10_000; t++) {
    for (const s of shards) s.sched.runUntil(t);
    if (stepOf2 !== undefined && t === stepOf2.atMs) shards[1]?.sched.stepWall(stepOf2.byMs);
    const due = inFlight.filter((m) => m.at <= t);
    inFlight.splice(0, due.length); // sent in time order, 1 ms each: the due ones come first
    for (const m of due) for (const s of shards) s.client.emit("message", m.topic, m.payload);
  }
  const files = shards.map(
    (s, i) => ({ shard: { index: i + 1 }, probes: s.probe?.stop() as ProbeRecord }) as unknown as ShardFile,
  );
  return shardOffsets(files)[1];
}

describe("the shards' clock offset", () => {
  it("is the one between the hosts' dates at the start", async () => {
    const offset = await run(undefined, 250);
    expect(offset?.offsetMs).toBeCloseTo(250, 6);
    expect(offset?.uncertaintyMs).toBeCloseTo(1, 6);
  });

  for (const byMs of [HOUR_MS, -HOUR_MS, 86_400_000])
    it(`is not moved by a step of one host's date mid-run (${byMs / HOUR_MS} h)`, async () => {
      const offset = await run({ atMs: 5_000, byMs }, 250);
      expect(offset?.offsetMs).toBeCloseTo(250, 6);
      expect(offset?.uncertaintyMs).toBeCloseTo(1, 6);
      expect(offset?.roundTripMs).toBeCloseTo(1, 6);
    });
});
