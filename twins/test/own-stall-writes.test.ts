/**
 * A save or a history write under way while the service itself did not run (kill -STOP, a paused
 * VM, its event loop held): the time it did not run is no wait on its disk. When it runs again, the
 * timers that came due run before the disk's answer is read, and the stall judge used to tell the
 * pause as a frozen disk (ERROR, `/healthz` 503) the moment the service ran again. On a fake clock
 * a pause is a jump of the time with no timer run in between (`FakeScheduler.jump`), told by a
 * stall watch on it (node/stall-watch.ts); a disk that stays frozen after the pause is still told,
 * once the service has run 5 s with the write under way (the pause counted from the stall watch's
 * tick due in it, STALL_TICK_MS at most after it began).
 */
import { pino } from "pino";
import { expect, it, vi } from "vitest";
import { FakeScheduler, hostTurn } from "../../node/scheduler.js";
import { STALL_TICK_MS, StallWatch } from "../../node/stall-watch.js";
import { DesireSaver, SAVE_STALLED_MS } from "../desire-saver.js";
import { HISTORY_FLUSH_MS, HISTORY_STALLED_MS, HistoryKeeper } from "../history-keeper.js";
import type { TwinsStore } from "../store.js";

const disk = vi.hoisted(() => ({ frozen: false, held: [] as (() => void)[] }));

vi.mock("../history-file.js", async (importOriginal) => {
  const real = await importOriginal<typeof import("../history-file.js")>();
  const write = async () => {
    if (disk.frozen) await new Promise<void>((thaw) => void disk.held.push(thaw));
  };
  return { ...real, appendHistory: write, rewriteHistory: write };
});

const turns = async (n = 10) => {
  for (let i = 0; i < n; i++) await hostTurn();
};

/** A fake clock with a stall watch on it, and a logger whose ERROR lines are kept. */
function paused() {
  const sched = new FakeScheduler(0);
  const stalls = new StallWatch(sched);
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: "info" }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  const errors = () => lines.filter((l) => l.level >= 50).map((l) => l.msg);
  return { sched, stalls, logger, errors };
}

/** A store whose next save waits until `thaw()` (a disk not answering yet). */
function heldStore() {
  const held: { thaw?: () => void } = {};
  const store: TwinsStore = {
    where: "/data/twins.json",
    load: async () => ({ nodes: {} }),
    save: () => new Promise<void>((resolve) => (held.thaw = resolve)),
    close: async () => {},
  };
  return { store, held };
}

/** A saver on the fake clock whose save is under way on a disk not answering yet (`held.thaw()` answers it). */
async function saveUnderWay() {
  const { sched, stalls, logger, errors } = paused();
  const { store, held } = heldStore();
  const saver = new DesireSaver(store, () => ({ nodes: {} }), logger, {
    scheduler: sched,
    stalls,
    gapMs: () => 0,
  });
  saver.save();
  await turns();
  return { sched, errors, held, saver };
}

it("tells no disk stall of a save under way while the service did not run 8 s", async () => {
  const { sched, errors, held, saver } = await saveUnderWay();
  expect(held.thaw).toBeDefined();
  sched.advance(1_000);
  sched.jump(8_000); // kill -STOP for 8 s, then kill -CONT: the timers due run first
  expect({ errors: errors(), since: saver.unsavedSince, stalled: saver.stalledSave }).toEqual({
    errors: [],
    since: undefined,
    stalled: undefined,
  });
  held.thaw?.(); // the disk's answer, read once the timers have run
  await saver.flush();
  sched.advance(10_000);
  expect(errors()).toEqual([]);
  saver.kill();
});

it("still tells a disk that does not answer, once the service has run 5 s with the save under way", async () => {
  const { sched, errors, held, saver } = await saveUnderWay();
  sched.advance(1_000);
  sched.jump(30_000); // 1 s of it run, 30 s not (but the stall watch's tick before the pause)
  sched.advance(SAVE_STALLED_MS - 1_000 - STALL_TICK_MS - 1);
  expect({ errors: errors(), stalled: saver.stalledSave }).toEqual({ errors: [], stalled: undefined });
  sched.advance(1);
  expect(errors()).toEqual([
    "twins: a save of the desired state to /data/twins.json has not finished in 5 s: its disk or file system is not answering (frozen, a hung disk or network volume?); what changes is held in memory only, and commands wait for the save to be answered",
  ]);
  expect(saver.stalledSave?.where).toBe("/data/twins.json");
  held.thaw?.();
  await saver.flush();
  saver.kill();
});

it("counts a history write under way while the service did not run as no failing write", async () => {
  const { sched, stalls, logger, errors } = paused();
  disk.frozen = false;
  disk.held = [];
  const kept = { file: "/data/convergence-history.jsonl", points: [], minutes: [], writable: true };
  const k = new HistoryKeeper(kept, 16, sched, logger, () => [], undefined, undefined, undefined, stalls);
  await turns();
  disk.frozen = true; // the next write waits for its disk's answer
  k.added({ t: HISTORY_FLUSH_MS, fraction: 1, inSync: 1, known: 1 }, false);
  sched.advance(HISTORY_FLUSH_MS);
  await turns();
  expect(disk.held).toHaveLength(1);
  sched.jump(90_000); // kill -STOP for 90 s while it was under way
  expect({ errors: errors(), unwritten: k.unwritten, stalled: k.stalled }).toEqual({
    errors: [],
    unwritten: undefined,
    stalled: undefined,
  });
  // The disk does not answer after the pause either: told once the service has run 5 s (the stall
  // watch's tick due before the pause counted as run).
  sched.advance(HISTORY_STALLED_MS - STALL_TICK_MS - 1);
  expect(k.unwritten).toBeUndefined();
  sched.advance(1);
  expect(k.stalled?.since).toBe(HISTORY_FLUSH_MS);
  expect(errors()).toEqual([
    expect.stringMatching(
      /^twins: the convergence history cannot be written to \/data\/convergence-history\.jsonl/,
    ),
  ]);
  disk.frozen = false;
  for (const thaw of disk.held.splice(0)) thaw();
  await k.settled();
  expect(k.unwritten).toBeUndefined();
});
