// A shard whose ids are online on the broker: a stop (Ctrl-C, SIGTERM) while it waits for them to go
// offline ends the wait at once, as a one-process run's does (it was answered once the wait was
// over, 23.5 s with the Uno's keepalive); and a shard refused, or stopped there, leaves nothing
// running (its clock probe went on sending every 500 ms, and the process never ended).
import mqtt from "mqtt";
import { pino } from "pino";
import { afterEach, beforeEach, expect, it } from "vitest";
import { RealScheduler, type Scheduler, type Timer } from "../../node/scheduler.js";
import { type BrokerHost, openBrokerHost } from "../broker-host.js";
import { FleetIdsInUseError, FleetStartStoppedError } from "../ids-in-use.js";
import { ShardRun } from "../shard-run.js";
import { idleShard } from "./idle-shard.js";

/** A real scheduler that counts its timers still pending. */
class CountingScheduler implements Scheduler {
  private readonly real = new RealScheduler();
  pending = 0;
  now = () => this.real.now();
  wallNow = () => this.real.wallNow();
  at(atMs: number, fn: () => void, exact?: boolean): Timer {
    this.pending++;
    let live = true;
    const end = () => {
      if (live) this.pending--;
      live = false;
    };
    const t = this.real.at(
      atMs,
      () => {
        end();
        fn();
      },
      exact,
    );
    return {
      cancel: () => {
        end();
        t.cancel();
      },
    };
  }
}

let broker: BrokerHost;

beforeEach(async () => {
  broker = await openBrokerHost({ logger: pino({ level: "silent" }), scheduler: new RealScheduler() });
  // Shard 2 of 2 runs n-0001 and n-0003: n-0001's status kept online without a will.
  const tool = await mqtt.connectAsync(broker.url);
  await tool.publishAsync("tf/status/n-0001", "T1 1", { qos: 1, retain: true });
  await tool.endAsync();
});

afterEach(async () => {
  await broker.close();
});

const shard = (keepaliveS: number) => idleShard(broker.url, keepaliveS);

it("a stop during the wait for ids in use ends it there: nothing ran, nothing left running", async () => {
  const sched = new CountingScheduler();
  const notes: string[] = [];
  let heard: () => void = () => {};
  const waiting = new Promise<void>((resolve) => {
    heard = resolve;
  });
  const { run, done } = ShardRun.run(shard(15), { index: 2, count: 2 }, sched, {
    note: (line) => {
      notes.push(line);
      if (line.includes("waiting up to 23.5 s")) heard();
    },
  });
  const ended = done.catch((e: unknown) => e);
  await waiting;
  // No report follows: the stop ended the start.
  expect(run.stop("SIGTERM")).toBe(false);
  const got = await ended;
  // Before, the wait ran its 23.5 s out and the shard was refused for its ids in use.
  expect(got).toBeInstanceOf(FleetStartStoppedError);
  expect((got as FleetStartStoppedError).reason).toBe("SIGTERM");
  expect(notes.filter((l) => l.includes("registered"))).toEqual([]);
  expect(sched.pending).toBe(0);
}, 30_000);

it("a shard refused for its ids in use leaves no timer of its own running", async () => {
  const sched = new CountingScheduler();
  const { done } = ShardRun.run(shard(1), { index: 2, count: 2 }, sched);
  const got = await done.catch((e: unknown) => e);
  expect(got).toBeInstanceOf(FleetIdsInUseError);
  // Before, the clock probe's timer: the process never ended.
  expect(sched.pending).toBe(0);
}, 30_000);
