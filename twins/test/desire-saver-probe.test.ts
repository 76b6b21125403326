// The saver's test write: a data directory that turns read-only (or full) while nothing changes is
// found within WRITE_PROBE_MS, not at the next save a quiet fleet never makes, and counts as a failed
// save (logged, `unsavedSince`/`unsavedCause` for /healthz and twins_store_saved) until a save
// succeeds; one that does not end (a frozen disk) as a stalled save. The test write itself, on a real directory: it leaves nothing behind, and fails where a
// save would.
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { probeWritable } from "../../node/dir-probe.js";
import { FakeScheduler, hostTurn } from "../../node/scheduler.js";
import { DesireSaver, SAVE_RETRY_MS, SAVE_STALLED_MS, WRITE_PROBE_MS } from "../desire-saver.js";
import { jsonFileStore, type TwinsStore } from "../store.js";
import { removeOrphanTemps } from "../store-dir.js";

const turns = async (n = 10) => {
  for (let i = 0; i < n; i++) await hostTurn();
};

/** A store on a disk an operator can remount read-only: saves and test writes fail alike meanwhile. */
function disk() {
  const state = { readOnly: false, saves: 0, probes: 0 };
  const refuse = (file: string) => {
    if (state.readOnly) throw new Error(`EROFS: read-only file system, open '/data/${file}'`);
  };
  const store: TwinsStore = {
    where: "/data/twins.json",
    load: async () => ({ nodes: {} }),
    save: async () => {
      refuse("twins.json.7.0.tmp");
      state.saves++;
    },
    probe: async () => {
      state.probes++;
      refuse("twins.probe.7.0.tmp");
    },
    close: async () => {},
  };
  return { state, store };
}

function quietSaver(store: TwinsStore) {
  const sched = new FakeScheduler(0);
  const lines: string[] = [];
  const logger = pino({ level: "info" }, { write: (l: string) => void lines.push(JSON.parse(l).msg) });
  const saver = new DesireSaver(store, () => ({ nodes: {} }), logger, { scheduler: sched, gapMs: () => 0 });
  return { sched, lines, saver };
}

describe("the saver's test write of its data directory", () => {
  it("finds a directory remounted read-only while nothing changes, and sees it writable again", async () => {
    const { state, store } = disk();
    const { sched, lines, saver } = quietSaver(store);
    state.readOnly = true; // the remount: nothing is saved, nothing changes
    sched.advance(WRITE_PROBE_MS - 1);
    await turns();
    expect(saver.unsavedSince).toBeUndefined();
    sched.advance(1);
    await turns();
    expect(state.probes).toBe(1);
    expect(saver.unsavedSince).toBe(WRITE_PROBE_MS);
    expect(saver.unsavedCause).toBe(
      "data directory /data cannot be written (EROFS: read-only file system, open '/data/twins.probe.7.0.tmp'), tried again every 5 s",
    );
    expect(lines).toEqual([
      expect.stringMatching(
        /^twins: the desired state cannot be saved to \/data\/twins\.json \(EROFS.*check the disk/,
      ),
    ]);
    // Retried as a failed save: still read-only, still unsaved, no test write meanwhile.
    sched.advance(SAVE_RETRY_MS);
    await turns();
    expect(saver.unsavedCause).toMatch(
      /cannot be written \(EROFS: read-only file system, open '\/data\/twins\.json\.7\.0\.tmp'\)/,
    );
    sched.advance(WRITE_PROBE_MS - SAVE_RETRY_MS);
    await turns();
    expect(state.probes).toBe(1);
    state.readOnly = false; // made writable again: the next retry saves, and the store is healthy
    sched.advance(SAVE_RETRY_MS);
    await turns();
    await saver.flush();
    expect(state.saves).toBe(1);
    expect(saver.unsavedSince).toBeUndefined();
    expect(lines.at(-1)).toBe("twins: the desired state is saved again to /data/twins.json");
    sched.advance(WRITE_PROBE_MS); // test writes again, at 90 s, and it passes
    await turns();
    expect(state.probes).toBe(2);
    expect(saver.unsavedSince).toBeUndefined();
    saver.kill();
    sched.advance(10 * WRITE_PROBE_MS);
    await turns();
    expect(state.probes).toBe(2); // none after kill
  });

  it("leaves a writable directory healthy, and saves nothing", async () => {
    const { state, store } = disk();
    const { sched, saver } = quietSaver(store);
    for (let i = 0; i < 4; i++) {
      sched.advance(WRITE_PROBE_MS);
      await turns();
    }
    expect(state.probes).toBe(4);
    expect(state.saves).toBe(0); // a test write is not a save
    expect(saver.unsavedSince).toBeUndefined();
    saver.kill();
  });
});

describe("a test write that does not end (a frozen disk)", () => {
  it("counts as a stall after 5 s, with the save asked for meanwhile, until both have ended", async () => {
    // fsfreeze under a quiet fleet: the test write hung, and /healthz said 200 for as long as the
    // disk stayed frozen (only the next save, which a quiet fleet never makes, was timed).
    const thaws: { what: string; thaw: () => void }[] = [];
    const hung = (what: string) => new Promise<void>((resolve) => thaws.push({ what, thaw: resolve }));
    const store: TwinsStore = {
      where: "/data/twins.json",
      load: async () => ({ nodes: {} }),
      save: () => hung("save"),
      probe: () => hung("test write"),
      close: async () => {},
    };
    const { sched, lines, saver } = quietSaver(store);
    sched.advance(WRITE_PROBE_MS + SAVE_STALLED_MS - 1);
    await turns();
    expect(thaws.map((t) => t.what)).toEqual(["test write"]);
    expect(saver.unsavedSince).toBeUndefined();
    expect(lines).toEqual([]);
    sched.advance(1);
    expect(saver.unsavedSince).toBe(WRITE_PROBE_MS);
    expect(saver.unsavedCause).toBe(
      "data directory /data has not finished a test write begun 5 s ago: its disk or file system is not answering",
    );
    expect(saver.stalledSave).toEqual({ forMs: SAVE_STALLED_MS, where: "/data", what: "test write" });
    expect(lines).toEqual([
      "twins: a test write of the data directory /data has not finished in 5 s: its disk or file system is not answering (frozen, a hung disk or network volume?); what changes is held in memory only, and commands wait for the save to be answered",
    ]);
    // A change now: its save is not held behind the test write, it begins at once (and hangs too).
    saver.save();
    await turns();
    expect(thaws.map((t) => t.what)).toEqual(["test write", "save"]);
    sched.advance(2 * WRITE_PROBE_MS); // no second test write on a disk that has not answered the first
    await turns();
    expect(thaws).toHaveLength(2);
    expect(lines).toHaveLength(1); // one stall, told once
    thaws[0]?.thaw(); // the test write ends first: the save is still stalled, since it began
    await turns();
    expect(saver.unsavedSince).toBe(WRITE_PROBE_MS + SAVE_STALLED_MS);
    expect(saver.stalledSave?.what).toBeUndefined();
    expect(lines).toHaveLength(1);
    thaws[1]?.thaw();
    await saver.flush();
    expect(saver.unsavedSince).toBeUndefined();
    expect(lines.at(-1)).toBe(
      "twins: the test write of /data ended after 65.0 s stalled, the save to /data/twins.json after 60.0 s",
    );
    saver.kill();
  });
});

describe("probeWritable", () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it("writes, syncs and removes its file, leaving the directory as it was", async () => {
    dir = await mkdtemp(join(tmpdir(), "twins-probe-"));
    await probeWritable(dir, "twins");
    await probeWritable(dir, "twins");
    expect(await readdir(dir)).toEqual([]);
  });

  it("fails where a save would, naming the file", async () => {
    dir = await mkdtemp(join(tmpdir(), "twins-probe-"));
    await expect(probeWritable(join(dir, "gone"), "twins")).rejects.toThrow(
      /ENOENT.*twins\.probe\.\d+\.0?\d*\.tmp/,
    );
  });

  it("a test write's file left by a process gone is removed as the store opens, in one line", async () => {
    dir = await mkdtemp(join(tmpdir(), "twins-probe-"));
    await writeFile(join(dir, "twins.probe.999999999.3.tmp"), "x");
    await writeFile(join(dir, `twins.probe.${process.pid}.3.tmp`), "x");
    // A save's left too, and files that are not the store's test writes: kept.
    await writeFile(join(dir, "twins.journal.999999999.1.tmp"), "x");
    await writeFile(join(dir, "broker.probe.999999999.3.tmp"), "x");
    await writeFile(join(dir, "twins.probe.999999999.3.tmp.keep"), "x");
    const lines: { msg: string; files?: string[] }[] = [];
    const logger = pino({ level: "info" }, { write: (l: string) => void lines.push(JSON.parse(l)) });
    const store = await jsonFileStore(dir, logger);
    expect((await readdir(dir)).filter((n) => n.includes(".tmp")).sort()).toEqual([
      "broker.probe.999999999.3.tmp",
      `twins.probe.${process.pid}.3.tmp`,
      "twins.probe.999999999.3.tmp.keep",
    ]);
    const said = lines.filter((l) => l.msg.includes("left by a killed run"));
    expect(said.map((l) => l.msg)).toEqual([
      `${dir}: test-write and save temporary files left by a killed run removed`,
    ]);
    expect(said[0]?.files?.sort()).toEqual(["twins.journal.999999999.1.tmp", "twins.probe.999999999.3.tmp"]);
    await store.close();
  });

  it("names only the test writes' files in the broker's words when no save's is left", async () => {
    dir = await mkdtemp(join(tmpdir(), "twins-probe-"));
    await writeFile(join(dir, "twins.probe.999999999.4.tmp"), "x");
    const lines: { msg: string; files?: string[] }[] = [];
    const logger = pino({ level: "info" }, { write: (l: string) => void lines.push(JSON.parse(l)) });
    expect(await removeOrphanTemps(dir, logger)).toEqual(["twins.probe.999999999.4.tmp"]);
    expect(lines.map((l) => [l.msg, l.files])).toEqual([
      [`${dir}: test-write files left by a killed run removed`, ["twins.probe.999999999.4.tmp"]],
    ]);
    expect(await removeOrphanTemps(dir, logger)).toEqual([]);
    expect(lines).toHaveLength(1);
  });
});
