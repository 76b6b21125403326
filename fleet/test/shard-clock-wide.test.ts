/**
 * A shard whose clock is dated only roughly (its process held off its core as it read the clocks, or
 * the host's clock stepped then) says so as it starts: its bound was only written into its report,
 * and every latency across shards that rests on it carried it unsaid. The bound comes from the
 * shard's injected scheduler, as a loaded host's reads give it.
 */
import { pino } from "pino";
import { afterEach, expect, it } from "vitest";
import { RealScheduler } from "../../node/scheduler.js";
import { type BrokerHost, openBrokerHost } from "../broker-host.js";
import { WIDE_CLOCK_MS, wideClockLine } from "../shard-offsets.js";
import { ShardRun } from "../shard-run.js";
import { idleShard } from "./idle-shard.js";

let broker: BrokerHost | undefined;
afterEach(async () => {
  await broker?.close();
  broker = undefined;
});

/** The host's clock as the process found it: its date to within `boundMs`. */
class DatedTo extends RealScheduler {
  constructor(private readonly boundMs: number) {
    super();
  }
  override wallBoundMs(): number {
    return this.boundMs;
  }
}

/** Runs a shard on `sched` until its start is over; the lines it said by then. */
async function startOn(sched: RealScheduler): Promise<string[]> {
  broker = await openBrokerHost({ logger: pino({ level: "silent" }), scheduler: new RealScheduler() });
  const notes: string[] = [];
  let started: () => void = () => {};
  const over = new Promise<void>((resolve) => {
    started = resolve;
  });
  const { run, done } = ShardRun.run(idleShard(broker.url, 15), { index: 1, count: 1 }, sched, {
    note: (l) => notes.push(l),
    started: () => started(),
  });
  await over;
  run.stop("SIGTERM");
  await done;
  return notes;
}

it("a shard whose clock is its host's date only to within 12 ms says so as it starts", async () => {
  const notes = await startOn(new DatedTo(12));
  const line = wideClockLine(12) as string;
  expect(line).toMatch(/^this shard's clock is its host's date only to within ± 12\.0 ms \(/);
  expect(line).toContain("every latency across shards to or from it is out by as much");
  expect(notes.filter((l) => l.startsWith("this shard's clock"))).toEqual([line]);
}, 30_000);

it("a shard whose clock is dated as closely as a host left alone dates it says nothing of it", async () => {
  const notes = await startOn(new DatedTo(0.002));
  expect(notes.filter((l) => l.startsWith("this shard's clock"))).toEqual([]);
  // The threshold: at it, told; below it, not.
  expect(wideClockLine(WIDE_CLOCK_MS)).toBeDefined();
  expect(wideClockLine(WIDE_CLOCK_MS - 0.001)).toBeUndefined();
}, 30_000);
