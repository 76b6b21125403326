// A stop that waits for a save its disk does not answer (fsfreeze): said once the save has stalled,
// again every 30 s while it lasts, and to a second SIGTERM; nothing is said while saves end. On the
// injected scheduler, with a store whose save ends only when the test thaws it.
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { FakeScheduler, hostTurn } from "../../node/scheduler.js";
import { DesireSaver, SAVE_STALLED_MS } from "../desire-saver.js";
import { STOP_WAIT_LOG_MS, StopWait } from "../stop-wait.js";
import type { TwinsStore } from "../store.js";
import { openingTold } from "../store-open-wait.js";

async function until(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !ok(); i++) await hostTurn();
  expect(ok()).toBe(true);
}

type Line = { level: number; msg: string; stalledMs?: number };
const pinoOf = (lines: Line[]) =>
  pino({ level: "info" }, { write: (l: string) => void lines.push(JSON.parse(l)) });

function frozen() {
  const sched = new FakeScheduler(0);
  const lines: Line[] = [];
  const logger = pinoOf(lines);
  const thaws: (() => void)[] = [];
  const store: TwinsStore = {
    where: "/data/twins.json",
    load: async () => ({ nodes: {} }),
    save: () => new Promise<void>((resolve) => thaws.push(resolve)),
    close: async () => {},
  };
  const saver = new DesireSaver(store, () => ({ nodes: {} }), logger, { scheduler: sched, gapMs: () => 0 });
  const wait = new StopWait(sched, logger);
  wait.watch(saver);
  return { sched, lines, thaws, saver, wait };
}

const WAITING =
  "its save to /data/twins.json, under way 6 s: its disk or file system is not answering (frozen? fsfreeze -u thaws it), and no process ends before its write does, SIGKILL included";

describe("stop wait", () => {
  it("says the stop waits for a stalled save, how long, and again every 30 s, until it ends", async () => {
    const { sched, lines, thaws, saver, wait } = frozen();
    sched.advance(1000);
    saver.save();
    await until(() => thaws.length === 1);
    sched.advance(500);
    wait.begin("SIGTERM"); // the save under way, not stalled yet: nothing to say
    expect(saver.stalledSave).toBeUndefined();
    expect(wait.againLine("SIGTERM")).toContain("a few seconds at most");
    sched.advance(SAVE_STALLED_MS); // stalled at 6000; the stop's look at 6500 tells it
    const told = () => lines.filter((l) => l.msg.startsWith("SIGTERM:"));
    expect(told()).toEqual([
      expect.objectContaining({
        level: 40,
        stalledMs: 5500,
        msg: `SIGTERM: the twins service stops once its last save has ended; it waits for ${WAITING}; commands under way are answered once it ends, new ones are refused (the web server is closed)`,
      }),
    ]);
    expect(wait.againLine("SIGTERM")).toBe(
      `SIGTERM: the twins service is stopping already, waiting for ${WAITING}; it ends once that write has ended, its lock removed`,
    );
    sched.advance(STOP_WAIT_LOG_MS - 1000);
    expect(told()).toHaveLength(1);
    sched.advance(1000);
    expect(told()).toHaveLength(2);
    expect(told()[1]?.msg).toMatch(
      /^SIGTERM: the twins service still waits for its save to \/data\/twins.json, under way 36 s:/,
    );
    thaws[0]?.();
    await saver.flush();
    sched.advance(10 * STOP_WAIT_LOG_MS);
    expect(told()).toHaveLength(2);
    wait.done();
    saver.kill();
  });

  it("says nothing when the stop's saves end, and looks no more once done", async () => {
    const { sched, lines, thaws, saver, wait } = frozen();
    saver.save();
    await until(() => thaws.length === 1);
    wait.begin("SIGINT");
    sched.advance(SAVE_STALLED_MS - 1);
    thaws[0]?.();
    await saver.flush();
    wait.done();
    saver.save(); // a save that stalls after the stop: no longer looked at
    await until(() => thaws.length === 2);
    sched.advance(2 * STOP_WAIT_LOG_MS);
    expect(lines.filter((l) => l.msg.startsWith("SIGINT:"))).toEqual([]);
    expect(saver.stalledSave).toEqual({ forMs: 2 * STOP_WAIT_LOG_MS, where: "/data/twins.json" });
    saver.kill();
  });

  it("names the history's hung write beside the save's, the longest under way first", async () => {
    // fsfreeze: the convergence history's write hung 7 s before the stop, the stop's last save after it.
    const { sched, lines, thaws, saver } = frozen();
    const wait = new StopWait(sched, pinoOf(lines));
    const historyFrom = sched.now();
    const history = "/data/convergence-history.jsonl";
    wait.watch({
      get stalledSave() {
        return saver.stalledSave;
      },
      get stalledHistory() {
        const forMs = sched.now() - historyFrom;
        return forMs >= SAVE_STALLED_MS ? { forMs, where: history } : undefined;
      },
    });
    sched.advance(7000);
    saver.save();
    await until(() => thaws.length === 1);
    wait.begin("SIGTERM");
    sched.advance(SAVE_STALLED_MS);
    expect(wait.againLine("SIGTERM")).toBe(
      `SIGTERM: the twins service is stopping already, waiting for its convergence history's write to ${history}, under way 12 s and its save to /data/twins.json, under way 5 s: its disk or file system is not answering (frozen? fsfreeze -u thaws it), and no process ends before its write does, SIGKILL included; it ends once those writes have ended, its lock removed`,
    );
    sched.advance(STOP_WAIT_LOG_MS - SAVE_STALLED_MS);
    const told = lines.filter((l) => l.msg.startsWith("SIGTERM:"));
    expect(told.map((l) => [l.msg.replace(/: its disk .* SIGKILL included;/, ": …;"), l.stalledMs])).toEqual([
      [
        `SIGTERM: the twins service stops once its convergence history's write has ended; it waits for its convergence history's write to ${history}, under way 7 s: …; its clean stop is recorded in the history then, and new commands are refused (the web server is closed)`,
        7000,
      ],
      [
        `SIGTERM: the twins service still waits for its convergence history's write to ${history}, under way 12 s and its save to /data/twins.json, under way 5 s: …; commands under way are answered once the save ends, new ones are refused (the web server is closed)`,
        12000,
      ],
    ]);
    thaws[0]?.();
    await saver.flush();
    wait.done();
    saver.kill();
  });

  it("says a stop asked for while the start waits for its data directory, and tells a second signal so", async () => {
    // fsfreeze before the start: the lock's write held. The first SIGTERM said nothing, the second
    // "a few seconds at most", and the process waited until the thaw.
    const sched = new FakeScheduler(0);
    const lines: Line[] = [];
    const wait = new StopWait(sched, pinoOf(lines));
    let answer: () => void = () => {};
    const started: Line[] = [];
    const opened = openingTold(new Promise<void>((r) => (answer = r)), "/data", sched, pinoOf(started), wait);
    sched.advance(2000);
    wait.begin("SIGTERM"); // 2 s in: a start that may yet answer at once, nothing said
    expect(wait.againLine("SIGTERM")).toContain("a few seconds at most");
    sched.advance(SAVE_STALLED_MS - 2000);
    const opening = (s: number) =>
      `its data directory /data to answer, not answering for ${s} s: its disk or file system is not answering (frozen? fsfreeze -u thaws it), and no process ends before its write does, SIGKILL included`;
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [
        40,
        `SIGTERM: the twins service stops without starting once its data directory has answered; it waits for ${opening(5)}; it serves nothing meanwhile (its web server and broker connection are not opened)`,
      ],
    ]);
    sched.advance(2000);
    expect(wait.againLine("SIGTERM")).toBe(
      `SIGTERM: the twins service is stopping already, without starting, waiting for ${opening(7)}; it ends once that write has ended, its lock removed`,
    );
    sched.advance(STOP_WAIT_LOG_MS - 2000);
    expect(lines.at(-1)?.msg).toMatch(
      /^SIGTERM: the twins service still waits for its data directory \/data to answer, not answering for 35 s:/,
    );
    answer();
    await opened;
    // The start says it starts nothing (it said "the service starts", then stopped without starting).
    expect(started.map((l) => l.msg.replace(/: its disk .*; the service/, ": …; the service"))).toEqual([
      "twins: the data directory /data has not answered in 5 s: …; the service stops without starting once it does, and no process ends before its write does, SIGKILL included",
      "twins: the data directory /data has not answered in 35 s: …; the service stops without starting once it does, and no process ends before its write does, SIGKILL included",
      "twins: the data directory /data answered after 35 s: the service stops without starting (SIGTERM)",
    ]);
    expect(wait.againLine("SIGTERM")).toContain("a few seconds at most");
    sched.advance(10 * STOP_WAIT_LOG_MS);
    expect(lines).toHaveLength(2);
    wait.done();
  });
});
