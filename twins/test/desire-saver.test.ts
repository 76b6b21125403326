// The desire saver: a burst of changes in one turn of the event loop costs one snapshot, and with a
// spacing the next save waits until the gap after the last one started, on the injected scheduler.
// A store that cannot be written (a full disk) is retried, and logged once, not once per save.
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { FakeScheduler, hostTurn } from "../../node/scheduler.js";
import {
  DesireSaver,
  SAVE_FAILURE_LOG_MS,
  SAVE_RETRY_MS,
  SAVE_STALLED_MS,
  STEP_CHECK_MS,
} from "../desire-saver.js";
import { memoryStore, type StoredState, type TwinsStore } from "../store.js";

const quiet = pino({ level: "silent" });

/** Resolves once `ok()` holds, turning the host's event loop between looks (at most 100 turns). */
async function until(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !ok(); i++) await hostTurn();
  expect(ok()).toBe(true);
}

describe("desire saver", () => {
  it("takes one snapshot for a burst of changes in one turn", async () => {
    let snapshots = 0;
    const saver = new DesireSaver(
      memoryStore(),
      () => ({ nodes: { [`s${++snapshots}`]: { sources: [], configVersion: 1 } } }) as StoredState,
      quiet,
    );
    // Changes arriving one promise continuation after another, as a batch of messages is handled.
    for (let i = 0; i < 100; i++) {
      saver.save();
      await Promise.resolve();
    }
    await saver.flush();
    expect(snapshots).toBe(1);
  });

  it("with a gap, a save waits until the gap after the last one started", async () => {
    const sched = new FakeScheduler(0);
    const store = memoryStore();
    let snapshots = 0;
    const saver = new DesireSaver(
      store,
      () => ({ nodes: {}, n: ++snapshots }) as unknown as StoredState,
      quiet,
      {
        scheduler: sched,
        gapMs: () => 500,
      },
    );
    saver.save();
    await saver.flush();
    expect(snapshots).toBe(1);
    saver.save();
    for (let i = 0; i < 5; i++) await hostTurn();
    sched.advance(499);
    for (let i = 0; i < 5; i++) await hostTurn();
    expect(snapshots).toBe(1);
    sched.advance(1);
    await saver.flush();
    expect(snapshots).toBe(2);
    expect(((await store.load()) as unknown as { n: number }).n).toBe(2);
  });

  it("saves again after a step of the host's clock, so the stored dates are on the new clock", async () => {
    const sched = new FakeScheduler(0, 3 * 86_400_000); // a board that booted on 1970-01-04
    const dates: number[] = [];
    const saver = new DesireSaver(
      memoryStore(),
      () => {
        dates.push(sched.wallNow());
        return { nodes: {} };
      },
      quiet,
      { scheduler: sched, gapMs: () => 0 },
    );
    saver.save();
    await saver.flush();
    sched.advance(STEP_CHECK_MS);
    await saver.flush();
    expect(dates).toHaveLength(1); // nothing changed, the clock did not step: no save
    sched.stepWall(Date.UTC(2026, 11, 5) - sched.wallNow()); // NTP sets the date
    sched.advance(STEP_CHECK_MS);
    for (let i = 0; i < 5; i++) await hostTurn();
    await saver.flush();
    expect(dates).toEqual([3 * 86_400_000, Date.UTC(2026, 11, 5) + STEP_CHECK_MS]);
    sched.advance(5 * STEP_CHECK_MS);
    await saver.flush();
    expect(dates).toHaveLength(2);
    saver.kill();
    expect(sched.pending).toBe(0);
  });

  it("says a read-only disk is read-only, not full", async () => {
    const sched = new FakeScheduler(0);
    const lines: { level: number; msg: string }[] = [];
    const logger = pino({ level: "info" }, { write: (l: string) => void lines.push(JSON.parse(l)) });
    const store: TwinsStore = {
      where: "/data/twins.json",
      load: async () => ({ nodes: {} }),
      save: async () => {
        throw new Error("EROFS: read-only file system, open '/data/twins.json.7.0.tmp'");
      },
      close: async () => {},
    };
    const saver = new DesireSaver(store, () => ({ nodes: {} }), logger, { scheduler: sched, gapMs: () => 0 });
    saver.save();
    for (let i = 0; i < 5; i++) await hostTurn();
    await saver.flush();
    saver.kill();
    expect(lines.map((l) => l.msg)).toEqual([
      expect.stringMatching(/\(EROFS.*: its file system is read-only .*: check the disk/),
    ]);
    expect(lines[0]?.msg).not.toContain("free space");
  });

  it("tells a command waiting on written() whether its change was stored, and why not", async () => {
    // A command is answered once written() resolves: to why not when the disk is full, so the web
    // API answers 507 rather than 200/202 for a change a restart would lose (web/test/api-unsaved).
    let full = true;
    const store: TwinsStore = {
      where: "/data/twins.json",
      load: async () => ({ nodes: {} }),
      save: async () => {
        if (full) throw new Error("ENOSPC: no space left on device, write");
      },
      close: async () => {},
    };
    const saver = new DesireSaver(store, () => ({ nodes: {} }), quiet);
    saver.save();
    await expect(saver.written()).resolves.toBe(
      "it cannot be saved to /data/twins.json (ENOSPC: no space left on device, write)",
    );
    full = false;
    saver.save();
    await expect(saver.written()).resolves.toBeUndefined();
    saver.kill();
    saver.save();
    await expect(saver.written()).resolves.toBeUndefined(); // killed: nothing more is queued
  });

  it("retries a failed save on the scheduler until it is written, logging once a minute at most", async () => {
    const sched = new FakeScheduler(0);
    const lines: { level: number; msg: string }[] = [];
    const logger = pino({ level: "info" }, { write: (l: string) => void lines.push(JSON.parse(l)) });
    let full = true;
    let attempts = 0;
    let saved: StoredState | undefined;
    const store: TwinsStore = {
      where: "/data/twins.json",
      load: async () => ({ nodes: {} }),
      save: async (st) => {
        attempts++;
        if (full) throw new Error("ENOSPC: no space left on device, write");
        saved = st;
      },
      close: async () => {},
    };
    const desire = { nodes: { A: { sources: [], configVersion: 3 } } } as unknown as StoredState;
    const saver = new DesireSaver(store, () => desire, logger, { scheduler: sched, gapMs: () => 0 });
    const settle = async () => {
      for (let i = 0; i < 5; i++) await hostTurn();
      await saver.flush();
    };
    expect(saver.unsavedSince).toBeUndefined();
    sched.advance(1000);
    saver.save();
    await settle();
    // Behind the service since the first failure: what the page's fault and the gauge read, and
    // /healthz, with the data directory and the error.
    expect(saver.unsavedSince).toBe(1000);
    expect(saver.unsavedCause).toBe(
      "data directory /data cannot be written (ENOSPC: no space left on device, write), tried again every 5 s",
    );
    // A minute of retries on a full disk, nothing changing meanwhile.
    for (let t = 0; t < SAVE_FAILURE_LOG_MS; t += SAVE_RETRY_MS) {
      sched.advance(SAVE_RETRY_MS);
      await settle();
    }
    expect(attempts).toBe(1 + SAVE_FAILURE_LOG_MS / SAVE_RETRY_MS);
    expect(lines.map((l) => l.msg)).toEqual([
      expect.stringMatching(
        /^twins: the desired state cannot be saved to \/data\/twins\.json \(ENOSPC.*free space/,
      ),
      "twins: the desired state still cannot be saved to /data/twins.json",
    ]);
    full = false;
    sched.advance(SAVE_RETRY_MS);
    await settle();
    expect(saved).toBe(desire);
    expect(saver.unsavedSince).toBeUndefined();
    expect(saver.unsavedCause).toBeUndefined();
    expect(lines.at(-1)?.msg).toBe("twins: the desired state is saved again to /data/twins.json");
    const after = attempts;
    sched.advance(10 * SAVE_RETRY_MS);
    await settle();
    expect(attempts).toBe(after);
  });

  it("tells a save that does not end (a frozen disk) as a stall after 5 s, for /healthz too, until it ends", async () => {
    // fsfreeze on the data directory: the write neither ends nor fails. /healthz said 200 and
    // twinfleet_twins_store_saved 1, the log nothing, while every command waited on the save.
    const sched = new FakeScheduler(0);
    const lines: { level: number; msg: string }[] = [];
    const logger = pino({ level: "info" }, { write: (l: string) => void lines.push(JSON.parse(l)) });
    let thaw: (() => void) | undefined;
    const store: TwinsStore = {
      where: "/data/twins.json",
      load: async () => ({ nodes: {} }),
      save: () => new Promise<void>((resolve) => (thaw = resolve)),
      close: async () => {},
    };
    const saver = new DesireSaver(store, () => ({ nodes: {} }), logger, { scheduler: sched, gapMs: () => 0 });
    sched.advance(1000);
    saver.save();
    await until(() => thaw !== undefined);
    sched.advance(SAVE_STALLED_MS - 1);
    expect(saver.unsavedSince).toBeUndefined();
    expect(lines).toEqual([]);
    sched.advance(1);
    expect(saver.unsavedSince).toBe(1000);
    sched.advance(2000);
    expect(saver.unsavedCause).toBe(
      "data directory /data has not finished a save begun 7 s ago: its disk or file system is not answering",
    );
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [
        50,
        "twins: a save of the desired state to /data/twins.json has not finished in 5 s: its disk or file system is not answering (frozen, a hung disk or network volume?); what changes is held in memory only, and commands wait for the save to be answered",
      ],
    ]);
    thaw?.();
    await saver.flush();
    expect(saver.unsavedSince).toBeUndefined();
    expect(saver.unsavedCause).toBeUndefined();
    expect(lines.at(-1)).toMatchObject({
      level: 40,
      msg: "twins: the save to /data/twins.json ended after 7.0 s stalled",
      stalledMs: 7000,
    });
    saver.kill();
  });

  it("close makes one last attempt and leaves no retry behind", async () => {
    const sched = new FakeScheduler(0);
    let attempts = 0;
    const store: TwinsStore = {
      load: async () => ({ nodes: {} }),
      save: async () => {
        attempts++;
        throw new Error("EIO");
      },
      close: async () => {},
    };
    const lines: string[] = [];
    const logger = pino({ level: "error" }, { write: (l: string) => lines.push(l) });
    const saver = new DesireSaver(store, () => ({ nodes: {} }), logger, { scheduler: sched, gapMs: () => 0 });
    saver.save();
    await saver.flush();
    expect(lines).toHaveLength(1);
    await saver.close();
    expect(attempts).toBe(2);
    // Within the failure log's minute, the last failure is still said: the service goes with its
    // store behind, and a caller can tell (unsavedSince).
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain("the last save failed as the service stopped");
    expect(lines[1]).toContain('"err":"EIO"');
    expect(saver.unsavedSince).toBe(0);
    sched.advance(10 * SAVE_RETRY_MS);
    await saver.flush();
    expect(attempts).toBe(2);
  });
});
