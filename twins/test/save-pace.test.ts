// A whole snapshot's save is timed for a stall only while it waits on its disk (twins/disk-stall.ts):
// a slow walk and many slices, the event loop busy between two (other work loading the host), with
// each write answered at once, is no stall; one write that does not end is told at 5 s from its own
// start, as a frozen disk was before the save was sliced. On the injected clock: each turn between
// two slices advances it, as a loaded host's event loop would.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, expect, it } from "vitest";
import { FakeScheduler, hostTurn } from "../../node/scheduler.js";
import { Prefix } from "../../protocol/index.js";
import { DesireSaver, SAVE_STALLED_MS } from "../desire-saver.js";
import { TwinRegistry } from "../registry.js";
import { jsonFileStore, type TwinsStore } from "../store.js";
import { datedState } from "../stored-dates.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** A logger whose lines are kept, and the service's ERROR lines among them. */
function kept() {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: "info" }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  return { logger, errors: () => lines.filter((l) => l.level >= 50).map((l) => l.msg) };
}

/** Resolves once `ok()` holds, turning the host's event loop between looks (at most 100 turns). */
async function until(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !ok(); i++) await hostTurn();
  expect(ok()).toBe(true);
}

it("tells no stall of a healthy disk while a slow walk and many slices take 5 s and more between writes", async () => {
  const dir = await mkdtemp(join(tmpdir(), "tf-save-pace-"));
  dirs.push(dir);
  const sched = new FakeScheduler(0, 1_800_000_000_000);
  /** Each turn between two slices (walked or written) takes 600 ms of the clock: 40 of them a save. */
  let turns = 0;
  let behind = false;
  const turn = async () => {
    turns++;
    sched.advance(600);
    behind ||= saver.unsavedSince !== undefined;
  };
  const slicing = { records: 100, turn };
  const { logger, errors } = kept();
  const store = await jsonFileStore(dir, logger, slicing);
  await store.load("tf");
  const registry = new TwinRegistry(Prefix("tf"));
  const saver: DesireSaver = new DesireSaver(store, datedState(registry, sched, slicing), logger, {
    scheduler: sched,
    gapMs: () => 0,
  });
  for (let i = 0; i < 2_000; i++)
    registry.receive(`tf/register/n-${String(i).padStart(5, "0")}`, "G1 sim uno-w5100 1.0.0", 1, sched.now());
  // The first append takes the whole state (the store's walk), then the stop's write (the saver's).
  saver.save("n-00001");
  await saver.flush();
  expect(turns).toBeGreaterThanOrEqual(40);
  expect(sched.now()).toBeGreaterThan(4 * SAVE_STALLED_MS);
  turns = 0;
  await saver.close();
  expect(turns).toBeGreaterThanOrEqual(40);
  expect({ errors: errors(), behind }).toEqual({ errors: [], behind: false });
  await store.close();
});

it("tells one write that does not end, after slow slices answered at once, at 5 s from that write's start", async () => {
  const sched = new FakeScheduler(0);
  const { logger, errors } = kept();
  let thaw: (() => void) | undefined;
  const store: TwinsStore = {
    where: "/data/twins.json",
    load: async () => ({ nodes: {} }),
    save: async (_state, _journaled, pace) => {
      for (let i = 0; i < 20; i++) {
        pace?.idle(); // a slice made: a second of the event loop's time
        sched.advance(1000);
        pace?.disk();
        await hostTurn(); // its write, answered at once
      }
      await new Promise<void>((resolve) => (thaw = resolve)); // the next one: a frozen disk
    },
    close: async () => {},
  };
  const saver = new DesireSaver(store, () => ({ nodes: {} }), logger, { scheduler: sched, gapMs: () => 0 });
  saver.save();
  await until(() => thaw !== undefined);
  expect(sched.now()).toBe(20_000);
  sched.advance(SAVE_STALLED_MS - 1);
  expect({ errors: errors(), since: saver.unsavedSince }).toEqual({ errors: [], since: undefined });
  sched.advance(1);
  expect(saver.unsavedSince).toBe(20_000);
  expect(errors()).toEqual([
    "twins: a save of the desired state to /data/twins.json has not finished in 5 s: its disk or file system is not answering (frozen, a hung disk or network volume?); what changes is held in memory only, and commands wait for the save to be answered",
  ]);
  thaw?.();
  await saver.flush();
  expect(saver.unsavedSince).toBeUndefined();
  saver.kill();
});
