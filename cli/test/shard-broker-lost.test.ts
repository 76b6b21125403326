/**
 * A shard whose broker dies (as under kill -9) tells it as a one-process run does: its watch client's
 * connection is lost from when the broker was last heard from and back once it returns; the progress
 * line says so while it lasts, and the shard report and the shard's closing lines say what it cost.
 * Real sockets to a broker in this process on port 0.
 */
import mqtt from "mqtt";
import { pino } from "pino";
import { expect, it } from "vitest";
import { BrokerThreadHost } from "../../fleet/broker-thread.js";
import { ShardRun } from "../../fleet/shard-run.js";
import { watchConnection } from "../../fleet/shard-watch.js";
import { RealScheduler } from "../../node/scheduler.js";
import { outageLines } from "../sim-summary.js";

/** Resolves once `cond` holds, checked every 20 ms; rejects if it has not within 20 s. */
function when(cond: () => boolean): Promise<void> {
  const until = Date.now() + 20_000;
  return new Promise((resolve, reject) => {
    const check = () => {
      if (cond()) resolve();
      else if (Date.now() > until) reject(new Error(`still not so after 20 s: ${cond}`));
      else setTimeout(check, 20);
    };
    check();
  });
}

it("the watch client's connection: lost once from the broker's last word, back once", async () => {
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
    // The last packet heard (a SUBACK) is at t = 2000; the broker dies unheard-from at t = 7000.
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
    expect(told).toEqual([
      [false, 2000],
      [true, undefined],
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
    const { run, done } = ShardRun.run(
      {
        broker: broker.url,
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
      { index: 1, count: 1 },
      new RealScheduler(),
      { note: (line) => notes.push(line) },
    );
    await when(() => notes.some((l) => l.includes("shard 1/1 press")));
    await broker.kill();
    await when(() => notes.some((l) => /online 0\/4 here; BROKER LOST \d+ s/.test(l)));
    run.stop();
    const file = await done;
    expect(file.brokerOutages).toHaveLength(1);
    const [o] = file.brokerOutages ?? [];
    expect(o).toMatchObject({ back: false, nodes: 4, disconnected: 4 });
    expect(o?.startMs).toBeGreaterThanOrEqual(file.pressStartMs - 1000);
    expect(o?.endMs).toBe(file.endMs);
    // The merge's analysis reads every node's lost session off the report.
    expect(Object.keys(file.timeline?.disconnects ?? {}).sort()).toEqual(file.nodes.slice().sort());
    expect(outageLines(file.brokerOutages ?? [])).toMatch(
      /broker lost {4}at -?\d+\.\d s for \d+\.\d s, not back by the end: 4 nodes disconnected/,
    );
  } finally {
    await broker.close();
  }
}, 60_000);
