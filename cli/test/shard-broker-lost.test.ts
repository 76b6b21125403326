/**
 * A shard whose broker dies (as under kill -9) tells it as a one-process run does: its watch client's
 * connection is lost from when the broker's side closed it and back from the reconnect that got
 * through (docs/metrics.md, "How long an outage lasted"); the progress
 * line says so while it lasts, and the shard report and the shard's closing lines say what it cost;
 * the merge makes the outage two shards saw one. Real sockets to a broker in this process on port 0.
 */
import mqtt from "mqtt";
import { pino } from "pino";
import { expect, it } from "vitest";
import { BrokerThreadHost } from "../../fleet/broker-thread.js";
import { mergeShards } from "../../fleet/shard-merge.js";
import { ShardRun } from "../../fleet/shard-run.js";
import { FakeScheduler, RealScheduler } from "../../node/scheduler.js";
import { StallWatch } from "../../node/stall-watch.js";
import { watchConnection } from "../../twins/index.js";
import { when as poll } from "../../twins/test/poll.js";
import { mergedSummary } from "../commands/report-run.js";
import { outageLines } from "../sim-summary.js";

/**
 * A small ring fleet's shard on `url` at no press rate (presses would need a minute), its lines into
 * `notes`. Its stall watch is on a clock of its own that never moves: the broker runs in this process,
 * so a busy host that holds the process 2 s or more holds both, and the shard told the broker's kill
 * just after as its own stall, with no outage (a 2.5 s busy wait before the kill did so every time).
 * How a shard tells its own stalls: shard-stall.test.ts.
 */
function shard(url: string, index: number, count: number, notes: string[]) {
  return ShardRun.run(
    {
      broker: url,
      nodes: 4,
      topology: "ring",
      groupSize: 4,
      ratePerNodePerMin: 0,
      durationS: 60,
      settleS: 1,
      workers: 1,
      profile: "ideal",
      progressEveryS: 0.2,
    },
    { index, count },
    new RealScheduler(),
    { note: (line) => notes.push(line), stalls: new StallWatch(new FakeScheduler(0)) },
  );
}

/** Resolves once `cond` holds; rejects if it has not within 20 s (a shard boots on real time). */
const when = (cond: () => boolean): Promise<void> => poll(cond, 20_000);

it("the watch client's connection: lost once, from its drop, back once, from the attempt that got through", async () => {
  const broker = new BrokerThreadHost(undefined, pino({ level: "silent" }));
  await broker.start();
  let t = 1000;
  const told: [boolean, number | undefined][] = [];
  const errors: string[] = [];
  const client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 50, keepalive: 15 });
  try {
    watchConnection(
      client,
      () => t,
      (e) => errors.push(e.message),
    ).on("broker", (up, at) => told.push([up, at]));
    // The last packet heard (a SUBACK) is at t = 2000; the broker dies, closing the socket, at t = 7000:
    // the outage is dated from the close, not from the last word.
    t = 2000;
    await client.subscribeAsync("x/#", { qos: 1 });
    t = 7000;
    let reconnects = 0;
    client.on("reconnect", () => reconnects++);
    await broker.kill();
    await when(() => told.length === 1);
    // Each failed reconnect (every 50 ms) is no news.
    await when(() => reconnects >= 3);
    t = 9000;
    await broker.start();
    await when(() => told.length === 2);
    // Back from the start of the attempt that got through: made after t = 9000, when the broker was
    // started (every attempt before it was refused at once).
    expect(told).toEqual([
      [false, 7000],
      [true, 9000],
    ]);
    expect(errors).toEqual([]);
  } finally {
    await client.endAsync(true);
    await broker.close();
  }
}, 30_000);

it("a shard whose broker dies for good: the progress line, the shard report and its closing lines say so", async () => {
  const broker = new BrokerThreadHost(undefined, pino({ level: "silent" }));
  await broker.start();
  const notes: string[] = [];
  try {
    const { run, done } = shard(broker.url, 1, 1, notes);
    await when(() => notes.some((l) => l.includes("shard 1/1 press")));
    await broker.kill();
    await when(() => notes.some((l) => /online 0\/4 here; BROKER LOST \d+ s/.test(l)));
    run.stop();
    const file = await done;
    expect(file.brokerOutages).toHaveLength(1);
    const [o] = file.brokerOutages ?? [];
    // Seen once (1 run of about 11): `disconnected: 0`, the outage at -222 ms; its inputs, if again.
    const inputs = { o, timeline: file.timeline, pressStartMs: file.pressStartMs, endMs: file.endMs };
    expect(o, JSON.stringify(inputs)).toMatchObject({ back: false, nodes: 4, disconnected: 4 });
    expect(o?.startMs).toBeGreaterThanOrEqual(file.pressStartMs - 1000);
    expect(o?.endMs).toBe(file.endMs);
    // The merge's analysis reads every node's lost session off the report.
    expect(Object.keys(file.timeline?.disconnects ?? {}).sort()).toEqual(file.nodes.slice().sort());
    expect(outageLines(file.brokerOutages ?? [])).toMatch(
      /broker lost {4}(?:at \d+\.\d s|in the boot, \d+\.\d s before the presses' start) for \d+\.\d s, not back by the end: 4 nodes disconnected/,
    );
  } finally {
    await broker.close();
  }
}, 60_000);

it("two shards, their broker killed and started again: the merge tells one outage both saw", async () => {
  const broker = new BrokerThreadHost(undefined, pino({ level: "silent" }));
  await broker.start();
  const notes: [string[], string[]] = [[], []];
  try {
    const shards = [shard(broker.url, 1, 2, notes[0]), shard(broker.url, 2, 2, notes[1])];
    const last = (k: 0 | 1) => notes[k].at(-1) ?? "";
    await when(() => notes.every((n) => n.some((l) => / press\]/.test(l))));
    await broker.kill();
    await when(() => last(0).includes("BROKER LOST") && last(1).includes("BROKER LOST"));
    await broker.start();
    // Back: the lines no longer say it.
    await when(() => !last(0).includes("BROKER LOST") && !last(1).includes("BROKER LOST"));
    for (const s of shards) s.run.stop();
    const files = await Promise.all(shards.map((s) => s.done));
    for (const f of files) expect(f.brokerOutages).toMatchObject([{ back: true, nodes: 2, disconnected: 2 }]);
    const r = mergeShards(["s1.json", "s2.json"], files);
    expect(r.brokerOutages).toHaveLength(1);
    expect(r.brokerOutages?.[0]).toMatchObject({ back: true, shards: [1, 2], nodes: 4, disconnected: 4 });
    expect(mergedSummary(r)).toMatch(
      /broker lost {4}(?:at \d+\.\d s|in the boot, \d+\.\d s before the presses' start) for \d+\.\d s, seen by shards 1, 2: 4 nodes disconnected, recovered after/,
    );
    // The pairs a shard counts are later than 5 s, as the summary's `lost` line says, not lost for good.
    expect(last(0)).toMatch(/in-shard pairs \d+ delivered, \d+ later than 5 s/);
    expect(mergedSummary(r)).toMatch(
      /shard 1 {8}2 nodes on .*: \d+ presses, \d+ deliveries to its nodes, \d+ later than 5 s,/,
    );
  } finally {
    await broker.close();
  }
}, 60_000);
