/**
 * A node thread of a shard (`twinfleet sim --shard K/N`) that dies: the shard used to go on to its
 * end without that thread's nodes, then fail with the bare error (`Worker terminated due to reaching
 * memory limit: JS heap out of memory`) and write no shard report. It now ends there, as a
 * one-process run does (fleet/thread-death.ts), with its report marked `threadDied` and cut short;
 * the merge names the shard and leaves the dead nodes' followers out of the divergence judgement.
 */
import type { Worker } from "node:worker_threads";
import { pino } from "pino";
import { afterEach, expect, it } from "vitest";
import { RealScheduler } from "../../node/scheduler.js";
import { type BrokerHost, openBrokerHost } from "../broker-host.js";
import { requirementFailures } from "../report.js";
import { mergeShards } from "../shard-merge.js";
import { ShardRun } from "../shard-run.js";
import { shardsThreadDied, threadDeathLine } from "../thread-death.js";
import { fleetOfTwo } from "./ring-of-four.js";

let broker: BrokerHost | undefined;
afterEach(async () => {
  await broker?.close();
});

const threadsOf = (run: ShardRun) =>
  (run as unknown as { pool: { pool: { threads: Worker[] } } }).pool.pool.threads;

it("ends the shard at the death with its report, marked, and says so once", async () => {
  broker = await openBrokerHost({ logger: pino({ level: "silent" }), scheduler: new RealScheduler() });
  const notes: string[] = [];
  let pressing: () => void = () => {};
  const pressed = new Promise<void>((resolve) => {
    pressing = resolve;
  });
  const { run, done } = ShardRun.run(
    {
      broker: broker.url,
      nodes: 4,
      topology: "pairs",
      groupSize: 2,
      ratePerNodePerMin: 0,
      durationS: 300,
      settleS: 60,
      workers: 2,
      profile: "ideal",
    },
    { index: 1, count: 1 },
    undefined,
    {
      note: (l) => {
        notes.push(l);
        if (l.startsWith("[shard 1/1 press]")) pressing();
      },
    },
  );
  await pressed;
  await threadsOf(run)[0]?.terminate();
  // Without the end at the death this waited out the 300 s of presses, then failed with no report.
  const file = await done;
  // Ended in its presses: no settle line after the death's (it printed one, as if settling).
  expect(notes.filter((l) => l.startsWith("[shard 1/1 settle]"))).toEqual([]);
  expect(file.threadDied).toMatchObject({ thread: expect.stringMatching(/^worker-[01]$/), nodes: 2 });
  expect(file.threadDied?.outOfMemory).toBe(false);
  expect(file.cutShort).toBe(true);
  // The living thread's nodes keep their final states; the dead one's have none.
  expect(file.finals).toHaveLength(2);
  const died = notes.filter((l) => l.includes(" died "));
  expect(died).toEqual([threadDeathLine(file.threadDied as NonNullable<typeof file.threadDied>)]);
  expect(died[0]).toMatch(
    /^worker thread [01] \(2 nodes\) died \d+ s into the run, .*: the run ended there$/,
  );
}, 60_000);

it("the merge names the shard whose thread died first, and judges no node against a dead one", () => {
  const [s1, s2] = fleetOfTwo();
  const death = {
    thread: "worker-0",
    reason: "out of memory: its JS heap reached its limit",
    outOfMemory: true,
  };
  // Shard 2's thread with n-0001 died: that node has no final state, and n-0002, following it, holds
  // a press of n-0001's that nothing else has (it was judged diverged before).
  const dead = s2.finals.filter(([id]) => id !== "n-0001");
  const r = mergeShards(
    ["a", "b"],
    [
      { ...s1, threadDied: { ...death, atS: 50, nodes: 3 } },
      { ...s2, finals: dead, cutShort: true, threadDied: { ...death, atS: 20, nodes: 1 } },
    ],
  );
  expect(r.threadDied).toMatchObject({ shard: 2, atS: 20, nodes: 1 });
  expect(requirementFailures(r)[0]).toMatch(/^shard 2's worker thread 0 \(1 nodes\) died 20 s into the run/);
  // n-0000 alone, as in the whole fleet: it holds its own press, not n-0001's newer one.
  expect(r.divergedNodes).toEqual(["n-0000"]);
  expect(shardsThreadDied([s1, s2])).toEqual({});
});
