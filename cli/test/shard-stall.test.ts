/**
 * A shard whose own process did not run for a while (SIGSTOP, a paused VM) loses its connection to
 * the broker on its own timers, as a one-process run does: the loss is the shard's stall, not an
 * outage of the broker, in its report and its closing lines (docs/shards.md). The stall is told to the
 * shard by its watch, here one that says the process did not run for the 20 s before the loss; the
 * loss itself is real, on real sockets to a broker in this process on port 0.
 */
import { pino } from "pino";
import { expect, it } from "vitest";
import { BrokerThreadHost } from "../../fleet/broker-thread.js";
import { ShardRun } from "../../fleet/shard-run.js";
import { FakeScheduler, RealScheduler } from "../../node/scheduler.js";
import { STALL_AFTERMATH_MS, type Stall, StallWatch } from "../../node/stall-watch.js";
import { when as poll } from "../../twins/test/poll.js";
import { stallLines } from "../sim-summary.js";

/** A watch that is told the process did not run for `ms` until now. */
class ToldWatch extends StallWatch {
  private stall: Stall | undefined;

  constructor() {
    super(new FakeScheduler(0));
    this.stop();
  }

  stoppedFor(ms: number, now: number): void {
    this.stall = { startMs: now - ms, endMs: now };
  }

  override list(): readonly Stall[] {
    return this.stall === undefined ? [] : [this.stall];
  }

  override explaining(atMs: number): Stall | undefined {
    const s = this.stall;
    return s !== undefined && s.startMs <= atMs && atMs <= s.endMs + STALL_AFTERMATH_MS ? s : undefined;
  }
}

/** Resolves once `cond` holds; rejects if it has not within 20 s (a shard boots on real time). */
const when = (cond: () => boolean): Promise<void> => poll(cond, 20_000);

it("a shard's own stall: its connection lost and back is the stall's, not an outage of the broker", async () => {
  const broker = new BrokerThreadHost(undefined, pino({ level: "silent" }));
  await broker.start();
  const notes: string[] = [];
  const sched = new RealScheduler();
  const stalls = new ToldWatch();
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
      sched,
      { note: (line) => notes.push(line), stalls },
    );
    const last = () => notes.at(-1) ?? "";
    await when(() => notes.some((l) => l.includes("shard 1/1 press")));
    // The shard ran again after 20 s and finds its connection gone (the broker cut it meanwhile).
    stalls.stoppedFor(20_000, sched.now());
    await broker.kill();
    await when(() => last().includes("BROKER LOST"));
    await broker.start();
    await when(() => !last().includes("BROKER LOST"));
    run.stop();
    const file = await done;
    expect(file.brokerOutages).toEqual([]);
    expect(file.stalls).toHaveLength(1);
    const [s] = file.stalls ?? [];
    expect(s).toMatchObject({ brokerLost: true, nodes: 4, durationMs: 20_000 });
    expect((s?.endMs ?? 0) - (s?.startMs ?? 0)).toBe(20_000);
    expect(stallLines(file.stalls, "the shard")).toMatch(
      /stalled {8}the shard did not run for 20\.0 s (?:at \d+\.\d s|in the boot, \d+\.\d s before the presses' start) \(its host stopped or paused it\): what it saw then is its own stall, not the broker's \(its connection to the broker lost and back\)/,
    );
  } finally {
    await broker.close();
  }
}, 60_000);
