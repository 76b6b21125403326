/**
 * A shard stopped (SIGTERM, Ctrl-C) while it still waits for the rest of the fleet starts no presses:
 * it used to start them as it ended, write a press start of that moment, and show `press` and
 * `settle` lines, so the merge read it as presses begun 30 s before the other shards'. Its report now
 * holds a press start at its end (no press window), which the merge tells as "before its presses".
 */
import { pino } from "pino";
import { expect, it } from "vitest";
import { BrokerThreadHost } from "../../fleet/broker-thread.js";
import { ShardRun } from "../../fleet/shard-run.js";
import { RealScheduler } from "../../node/scheduler.js";

it("a shard stopped before the whole fleet registered starts no presses and says so in its report", async () => {
  const broker = new BrokerThreadHost(undefined, pino({ level: "silent" }));
  await broker.start();
  const notes: string[] = [];
  try {
    // Shard 1 of 2, alone: it waits for shard 2's nodes.
    const { run, done } = ShardRun.run(
      {
        broker: broker.url,
        nodes: 4,
        topology: "ring",
        groupSize: 4,
        ratePerNodePerMin: 60,
        durationS: 60,
        settleS: 5,
        workers: 1,
        profile: "ideal",
        progressEveryS: 0.2,
      },
      { index: 1, count: 2 },
      new RealScheduler(),
      { note: (line) => notes.push(line) },
    );
    const until = Date.now() + 20_000;
    while (!notes.some((l) => l.includes("registered 2/2 here")) && Date.now() < until)
      await new Promise((r) => setTimeout(r, 20));
    run.stop();
    const file = await done;
    expect(file.cutShort).toBe(true);
    expect(file.pressStartMs).toBe(file.endMs);
    expect(file.presses).toEqual([]);
    expect(notes.filter((l) => /shard 1\/2 (press|settle)\]/.test(l))).toEqual([]);
  } finally {
    await broker.close();
  }
}, 60_000);
