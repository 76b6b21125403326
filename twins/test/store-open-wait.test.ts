// The start's wait for a data directory that does not answer (fsfreeze holding the lock's write):
// told after 5 s, again every 30 s, and how long once it answered; nothing said for a quick open.
// On the injected scheduler, with an opening the test ends.
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { LateHost } from "../../node/test/late-host.js";
import { SAVE_STALLED_MS } from "../desire-saver.js";
import { STOP_WAIT_LOG_MS } from "../stop-wait.js";
import { openingTold } from "../store-open-wait.js";

function setUp() {
  const sched = new FakeScheduler(0);
  const lines: { level: number; msg: string; waitedMs?: number }[] = [];
  const logger = pino({ level: "info" }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  let answer: (v: string) => void = () => {};
  const opening = new Promise<string>((resolve) => (answer = resolve));
  return { sched, lines, logger, opening, answer: (v: string) => answer(v) };
}

describe("opening the store, told", () => {
  it("says a data directory that has not answered in 5 s, again every 30 s, and when it answers", async () => {
    const { sched, lines, logger, opening, answer } = setUp();
    const told = openingTold(opening, "/data", sched, logger);
    sched.advance(SAVE_STALLED_MS - 1);
    expect(lines).toEqual([]);
    sched.advance(1000);
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [
        40,
        "twins: the data directory /data has not answered in 5 s: its disk or file system is not answering (frozen? fsfreeze -u thaws it; a hung disk or network volume?); the service starts once it does, and no process ends before its write does, SIGKILL included",
      ],
    ]);
    sched.advance(STOP_WAIT_LOG_MS - 1000);
    expect(lines).toHaveLength(1);
    sched.advance(1000);
    expect(lines).toHaveLength(2);
    expect(lines[1]?.msg).toMatch(/^twins: the data directory \/data has not answered in 35 s:/);
    sched.advance(5000);
    answer("store");
    await expect(told).resolves.toBe("store");
    expect(lines.at(-1)).toMatchObject({
      level: 30,
      msg: "twins: the data directory /data answered after 41 s: the service starts",
      waitedMs: 40999,
    });
    sched.advance(10 * STOP_WAIT_LOG_MS);
    expect(lines).toHaveLength(3);
  });

  it("says nothing of an open that answers within 5 s, nor of one that fails", async () => {
    const { sched, lines, logger, opening, answer } = setUp();
    const told = openingTold(opening, "/data", sched, logger);
    sched.advance(SAVE_STALLED_MS - 1);
    answer("store");
    await expect(told).resolves.toBe("store");
    await expect(openingTold(Promise.reject(new Error("EACCES")), "/data", sched, logger)).rejects.toThrow(
      "EACCES",
    );
    sched.advance(10 * STOP_WAIT_LOG_MS);
    expect(lines).toEqual([]);
  });

  it("says 5 s at 5 s and 35 s at 35 s on a host that runs its timers late", async () => {
    const { sched, lines, logger, opening, answer } = setUp();
    const told = openingTold(opening, "/data", new LateHost(sched, 150), logger);
    sched.advance(5_150);
    expect(lines.map((l) => l.waitedMs)).toEqual([5_150]);
    expect(lines[0]?.msg).toMatch(/^twins: the data directory \/data has not answered in 5 s:/);
    sched.advance(30_000);
    expect(lines.map((l) => l.waitedMs)).toEqual([5_150, 35_150]);
    expect(lines[1]?.msg).toMatch(/^twins: the data directory \/data has not answered in 35 s:/);
    answer("store");
    await told;
  });
});
