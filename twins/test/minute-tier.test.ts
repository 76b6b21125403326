/**
 * The convergence history's long tier (twins/minute-tier.ts): the fine series holds 1,024 points, a
 * few minutes on a busy fleet, so "was the fleet in sync during last night's broker outage?" had no
 * answer in the morning. Hours go by on a fake clock: a minute keeps its lowest share (a dip of
 * seconds is not averaged away), the broker's absence and the service's, for 48 h, across a kill.
 */
import { EventEmitter } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { ConvergenceFeed, fleetFeed } from "../convergence-feed.js";
import { HISTORY_FILE } from "../history-file.js";
import { HISTORY_FLUSH_MS } from "../history-keeper.js";
import { restoreHistory } from "../history-restore.js";
import { MINUTE_MS, MINUTES_KEPT, minutesFrom } from "../minute-tier.js";
import { followersReport } from "./reports.js";

const HOUR = 60 * MINUTE_MS;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const mkdir = () => {
  const d = mkdtempSync(join(tmpdir(), "minute-tier-"));
  dirs.push(d);
  return d;
};

const N = 100;
const reportOf = (inSync: number) => followersReport(inSync, N);

/** A feed on a fake clock started at `at`, kept in `dir` when given; `busy` adds a point every 100 ms. */
async function start(at: number, dir?: string) {
  const scheduler = new FakeScheduler(at);
  const logger = pino({ level: "silent" });
  const history =
    dir === undefined ? undefined : await restoreHistory(join(dir, HISTORY_FILE), 1024, scheduler, logger);
  let report = reportOf(N);
  const feed = new ConvergenceFeed({
    scheduler,
    everyMs: 100,
    capacity: 1024,
    compute: () => report,
    emit: () => {},
    ...(history !== undefined ? { kept: { history, logger } } : {}),
  });
  await feed.historyWritten(); // the start's rewrite of the file
  let flip = false;
  /**
   * `ms` of a busy fleet at `inSync` of 100, one more in sync every other 100 ms below 100 (a point
   * every 100 ms, its low `inSync`), the history's writes awaited.
   */
  const busy = async (inSync: number, ms: number) => {
    for (let left = ms; left > 0; left -= 100) {
      flip = !flip;
      report = reportOf(flip && inSync < N ? inSync + 1 : inSync);
      feed.schedule();
      scheduler.advance(100);
      if (dir !== undefined && scheduler.now() % HISTORY_FLUSH_MS === 0) await feed.historyWritten();
    }
  };
  /** `ms` with nothing changing (the broker away, a quiet fleet). */
  const quiet = async (ms: number) => {
    for (let left = ms; left > 0; left -= 1000) {
      scheduler.advance(Math.min(1000, left));
      await feed.historyWritten();
    }
  };
  return { feed, scheduler, busy, quiet };
}

describe("the long tier of the convergence history", () => {
  it("keeps a minute's lowest share, not its mean, and the broker's outage, long after the fine series forgot them", async () => {
    const a = await start(0);
    a.feed.schedule();
    await a.quiet(2 * HOUR - 10_000);
    await a.busy(N - 1, 10_000); // 02:00, a busy fleet: 99 % and 100 % by turns, a point each 100 ms
    await a.busy(25, 2_000); // a 2 s dip to 25 %: the minute's mean stays above 97 %
    await a.busy(N - 1, 58_000);
    a.feed.broker(false); // 02:01: the broker killed for 10 min
    await a.quiet(10 * MINUTE_MS);
    a.feed.broker(true);
    await a.busy(N - 1, 5 * MINUTE_MS);
    await a.quiet(6 * HOUR); // the morning
    // The fine series holds the last 102 s of the busy fleet only.
    const fine = a.feed.history();
    expect(fine).toHaveLength(1024);
    expect(fine[0]?.t).toBeGreaterThan(2 * HOUR + 11 * MINUTE_MS);
    expect(Math.min(...fine.map((p) => p.fraction))).toBe(0.99);
    const minutes = a.feed.minutes();
    const at = (t: number) => minutes.find((m) => m.t === t);
    expect(at(2 * HOUR)).toEqual({ t: 2 * HOUR, fraction: 0.25, inSync: 25, known: N });
    expect(at(2 * HOUR - MINUTE_MS)).toMatchObject({ fraction: 0.99 });
    expect(at(2 * HOUR - 2 * MINUTE_MS)).toMatchObject({ fraction: 1 });
    const away = minutes.filter((m) => m.away);
    expect(away.map((m) => (m.t - 2 * HOUR) / MINUTE_MS)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    // Away all of it: nothing judged there (the share held was not measured).
    expect(at(2 * HOUR + 5 * MINUTE_MS)).toEqual({ t: 2 * HOUR + 5 * MINUTE_MS, away: true });
    expect(at(2 * HOUR + 12 * MINUTE_MS)).toMatchObject({ fraction: 0.99 });
    // One a minute from the start, the minute under way last.
    expect(minutes).toHaveLength((8 * HOUR + 16 * MINUTE_MS) / MINUTE_MS + 1);
    a.feed.stop();
  });

  it("hears the service's `broker` events: a service's feed marks the minutes its broker was away", () => {
    const scheduler = new FakeScheduler(0);
    const owner = Object.assign(new EventEmitter(), {
      convergence: () => reportOf(N),
    });
    const registry = { size: N, presenceOf: () => "online" as const };
    const feed = fleetFeed({ scheduler, historyCapacity: 16 }, registry, 0.1, owner);
    scheduler.advance(MINUTE_MS);
    owner.emit("broker", false, 50_000, "lost");
    scheduler.advance(2 * MINUTE_MS);
    owner.emit("broker", true);
    scheduler.advance(MINUTE_MS);
    expect(feed.minutes().map((m) => m.away === true)).toEqual([false, true, true, true, false]);
    feed.stop();
  });

  it("closes the minutes a stalled host slept through down, with no share, and the one it woke in down", async () => {
    // The service's minute timer came 150 s late (SIGSTOP/SIGCONT, a paused VM): the minutes in
    // between were left out of the tier, a hole in the 48 h with nothing said of it.
    const dir = mkdir();
    const a = await start(10 * HOUR, dir);
    await a.busy(N, 10_000);
    await a.busy(70, 10_000); // 10:00:10, a dip
    a.scheduler.jump(150_000); // stopped at 10:00:20, running again at 10:02:50
    await a.feed.historyWritten();
    await a.busy(N, 30_000); // to 10:03:20
    const minutes = a.feed.minutes();
    expect(minutes).toEqual([
      // Stopped for its last 40 s: down, with the share of its first 20 s (it was told as measured);
      // the service's first minute, its followers new to it (joining).
      { t: 10 * HOUR, fraction: 0.7, inSync: 70, known: N, down: true, joining: true },
      { t: 10 * HOUR + MINUTE_MS, down: true },
      { t: 10 * HOUR + 2 * MINUTE_MS, fraction: 0.7, inSync: 70, known: N, down: true },
      { t: 10 * HOUR + 3 * MINUTE_MS, fraction: 1, inSync: N, known: N },
    ]);
    await a.feed.close();
    const b = await start(10 * HOUR + 4 * MINUTE_MS, dir);
    expect(b.feed.minutes().slice(0, 3)).toEqual(minutes.slice(0, 3));
    b.feed.stop();
    await b.feed.historyWritten();
  });

  it("holds 48 h, one point a minute, and drops the oldest after", async () => {
    const a = await start(0);
    a.feed.schedule();
    await a.quiet(50 * HOUR);
    const minutes = a.feed.minutes();
    expect(minutes).toHaveLength(MINUTES_KEPT + 1);
    expect(minutes[0]?.t).toBe(2 * HOUR);
    expect(minutes.at(-1)?.t).toBe(50 * HOUR);
    a.feed.stop();
  });

  it("comes back after a kill -9 from the history file, the time down marked", async () => {
    const dir = mkdir();
    const a = await start(10 * HOUR, dir);
    await a.busy(N, 3 * MINUTE_MS);
    await a.busy(40, 1_000); // 10:03:00, a dip
    await a.busy(N, 20_000);
    a.feed.stop(); // kill -9 at 10:03:21
    await a.feed.historyWritten(); // a write under way at the kill ends (or not) before the start
    const b = await start(10 * HOUR + 30 * MINUTE_MS + 30_000, dir); // started again at 10:30:30
    const minutes = b.feed.minutes();
    const at = (t: number) => minutes.find((m) => m.t === t);
    expect(at(10 * HOUR + MINUTE_MS)).toEqual({ t: 10 * HOUR + MINUTE_MS, fraction: 1, inSync: N, known: N });
    // The minute of the kill, not written yet, is rebuilt from the fine points: its dip, and down.
    expect(at(10 * HOUR + 3 * MINUTE_MS)).toMatchObject({ fraction: 0.4, down: true });
    expect(at(10 * HOUR + 10 * MINUTE_MS)).toEqual({ t: 10 * HOUR + 10 * MINUTE_MS, down: true });
    expect(minutes.at(-1)).toMatchObject({ t: 10 * HOUR + 30 * MINUTE_MS, down: true });
    expect(minutes.map((m) => m.t)).toEqual(Array.from({ length: 31 }, (_, i) => 10 * HOUR + i * MINUTE_MS));
    await b.busy(N, 2 * MINUTE_MS);
    await b.feed.close();
    const c = await start(11 * HOUR, dir);
    expect(c.feed.minutes().find((m) => m.t === 10 * HOUR + 31 * MINUTE_MS)).toMatchObject({ fraction: 1 });
    expect(c.feed.minutes().find((m) => m.t === 10 * HOUR + 3 * MINUTE_MS)).toMatchObject({ fraction: 0.4 });
    c.feed.stop();
    await c.feed.historyWritten();
  });

  it("marks the minute of a restart within it down, with the share measured before the stop", async () => {
    const dir = mkdir();
    const a = await start(10 * HOUR, dir);
    await a.busy(N, 2 * MINUTE_MS);
    await a.busy(60, 5_000); // 10:02:00
    await a.feed.close(); // SIGTERM at 10:02:05
    const b = await start(10 * HOUR + 2 * MINUTE_MS + 40_000, dir); // started again at 10:02:40
    expect(b.feed.minutes().at(-1)).toEqual({
      t: 10 * HOUR + 2 * MINUTE_MS,
      fraction: 0.6,
      inSync: 60,
      known: N,
      down: true,
    });
    b.feed.stop();
    await b.feed.historyWritten();
  });

  it("reads a format 1 file (before the long tier), its minutes rebuilt from its points, and writes format 2", async () => {
    const dir = mkdir();
    const file = join(dir, HISTORY_FILE);
    const p = (t: number, inSync: number) => JSON.stringify({ t, fraction: inSync / 4, inSync, known: 4 });
    writeFileSync(
      file,
      [
        '{"format":1,"history":"twinfleet convergence"}',
        p(0, 4),
        p(70_000, 1),
        p(71_000, 4),
        '{"stop":150000}',
        "",
      ].join("\n"),
    );
    const a = await start(200_000, dir);
    expect(a.feed.minutes()).toEqual([
      { t: 0, fraction: 1, inSync: 4, known: 4 },
      { t: 60_000, fraction: 0.25, inSync: 1, known: 4 },
      { t: 120_000, fraction: 1, inSync: 4, known: 4, down: true },
      { t: 180_000, down: true },
    ]);
    await a.quiet(HISTORY_FLUSH_MS);
    await a.feed.close();
    expect(readFileSync(file, "utf8").split("\n")[0]).toBe('{"format":2,"history":"twinfleet convergence"}');
  });

  it("rebuilds minutes from fine points with a restart's marker in them", () => {
    const points = [
      { t: 0, fraction: 0.5, inSync: 2, known: 4 },
      { t: 90_000, fraction: 1, inSync: 4, known: 4, stoppedUntil: 200_000 },
      { t: 200_000, fraction: 0.75, inSync: 3, known: 4 },
    ];
    expect(minutesFrom(points, 0, 240_000)).toEqual([
      { t: 0, fraction: 0.5, inSync: 2, known: 4 },
      { t: 60_000, fraction: 0.5, inSync: 2, known: 4, down: true },
      { t: 120_000, down: true },
      { t: 180_000, fraction: 0.75, inSync: 3, known: 4, down: true },
    ]);
  });
});
