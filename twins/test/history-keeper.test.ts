/**
 * The convergence history kept in the data directory (twins/history-keeper.ts, history-file.ts): a
 * restarted service started with an empty chart, so whether the fleet was in sync before it had no
 * answer. Points are appended every 5 s, so a kill loses the last 5 s at most; the time the service
 * was not running is a marked gap; a damaged file is said and never stops the start.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { HISTORY_ALIVE_MS, HISTORY_FILE } from "../history-file.js";
import { HISTORY_FLUSH_MS } from "../history-keeper.js";
import { MINUTES_KEPT } from "../minute-tier.js";
import { keptFeed } from "./reports.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function logged() {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: "info" }, { write: (l: string) => lines.push(JSON.parse(l)) });
  return { logger, lines };
}

/** A service's feed on `dir`'s history, started at `at` on a fake clock: the restored history, and a way to add points. */
async function start(
  dir: string,
  at: number,
  capacity = 16,
  fleet?: string,
  epochMs = 0,
  minutesKept = MINUTES_KEPT,
) {
  const { logger, lines } = logged();
  const file = join(dir, HISTORY_FILE);
  const kept = await keptFeed(file, { at, logger, capacity, fleet, epochMs, minutesKept });
  return { ...kept, lines, file };
}

const mkdir = () => {
  const d = mkdtempSync(join(tmpdir(), "history-keeper-"));
  dirs.push(d);
  return d;
};

describe("the convergence history in the data directory", () => {
  it("comes back after a kill, less the points of the last flush interval, the time down marked", async () => {
    const dir = mkdir();
    const a = await start(dir, 1_000_000);
    await a.step(4, 2000); // t 1,000,000: 4 of 4
    await a.step(2, HISTORY_FLUSH_MS); // t 1,002,000: 2 of 4, then a flush
    await a.step(3, 1000); // t 1,007,000: not flushed yet
    a.feed.stop(); // a kill -9: nothing more written
    const b = await start(dir, 1_100_000);
    const h = b.feed.history();
    expect(h.map((p) => [p.t, p.inSync, p.stoppedUntil])).toEqual([
      [1_000_000, 4, undefined],
      // the last point written: the service was not running from then until the restart
      [1_002_000, 2, 1_100_000],
    ]);
    expect(b.lines.find((l) => l.msg.includes("restored"))?.msg).toContain("it recorded no clean stop");
    await b.step(1, 10);
    expect(b.feed.history().at(-1)).toMatchObject({ t: 1_100_000, inSync: 1 });
  });

  it("marks the gap from a clean stop's time, and from the last alive line after a quiet kill", async () => {
    const dir = mkdir();
    const a = await start(dir, 0);
    await a.step(4, 1000);
    a.scheduler.advance(30_000);
    await a.feed.close(); // SIGTERM at 31 s
    const b = await start(dir, 50_000);
    expect(b.feed.history().at(-1)).toMatchObject({ t: 31_000, inSync: 4, stoppedUntil: 50_000 });
    await b.step(3, 1000);
    // quiet for 3 minutes: alive lines, then a kill
    for (let i = 0; i < 180; i++) {
      b.scheduler.advance(1000);
      await b.feed.historyWritten();
    }
    b.feed.stop();
    const c = await start(dir, 400_000);
    const marker = c.feed.history().at(-1);
    expect(marker?.stoppedUntil).toBe(400_000);
    expect(marker?.inSync).toBe(3);
    expect(marker?.t).toBeGreaterThanOrEqual(231_000 - HISTORY_ALIVE_MS);
    // the earlier gap is kept too
    expect(c.feed.history().filter((p) => p.stoppedUntil !== undefined)).toHaveLength(2);
  });

  it("stays bounded: appended lines are compacted into the series", async () => {
    const dir = mkdir();
    const a = await start(dir, 0, 4, undefined, 0, 2);
    for (let i = 0; i < 40; i++) await a.step(i % 2 === 0 ? 4 : 1, HISTORY_FLUSH_MS);
    const lines = readFileSync(a.file, "utf8").trim().split("\n");
    expect(lines.length).toBeLessThanOrEqual(2 * (4 + 2) + 3);
    a.feed.stop();
    const b = await start(dir, 1_000_000, 4, undefined, 0, 2);
    expect(b.feed.history()).toHaveLength(4);
    // the last point, added at 195 s, was written whole with an `alive` at 200 s: the marker follows it
    expect(b.feed.history().at(-2)?.t).toBe(39 * HISTORY_FLUSH_MS);
    expect(b.feed.history().at(-1)).toMatchObject({ t: 40 * HISTORY_FLUSH_MS, stoppedUntil: 1_000_000 });
  });

  it("leaves out damaged lines with one warning, and starts on a foreign file moved aside", async () => {
    const dir = mkdir();
    const a = await start(dir, 0);
    await a.step(4, HISTORY_FLUSH_MS);
    a.feed.stop();
    const file = join(dir, HISTORY_FILE);
    writeFileSync(file, `${readFileSync(file, "utf8")}{"t":6000,"fraction":0.5,"inS`);
    const b = await start(dir, 20_000);
    const warns = b.lines.filter((l) => l.level === 40).map((l) => l.msg);
    expect(warns).toEqual([expect.stringContaining("1 damaged line(s), left out (line 4 is cut short")]);
    // the one point written, which is also the last record: the gap runs from it
    expect(b.feed.history().map((p) => [p.t, p.stoppedUntil])).toEqual([[0, 20_000]]);
    expect(readFileSync(file, "utf8")).not.toContain("inS\n");
    b.feed.stop();
    writeFileSync(file, "not a history\n");
    const c = await start(dir, 30_000);
    expect(c.lines.filter((l) => l.level === 40).map((l) => l.msg)).toEqual([
      expect.stringContaining("moved to"),
    ]);
    expect(readFileSync(`${file}.damaged`, "utf8")).toBe("not a history\n");
    expect(c.feed.history()).toEqual([]);
  });

  it("leaves a newer format's file as it is, and keeps the history in memory", async () => {
    const dir = mkdir();
    const file = join(dir, HISTORY_FILE);
    const newer = '{"format":5,"history":"twinfleet convergence"}\n{"x":1}\n';
    writeFileSync(file, newer);
    const a = await start(dir, 0);
    expect(a.lines.filter((l) => l.level === 40).map((l) => l.msg)).toEqual([
      expect.stringContaining("format 5, written by a newer twinfleet"),
    ]);
    await a.step(4, 2 * HISTORY_FLUSH_MS);
    await a.feed.close();
    expect(a.feed.history()).toHaveLength(1);
    expect(readFileSync(file, "utf8")).toBe(newer);
  });

  it("says a clean stop it could not record, and the next start does not call it a kill", async () => {
    const dir = mkdir();
    const a = await start(dir, 0);
    await a.step(4, HISTORY_FLUSH_MS);
    // The disk refuses the stop's record (a directory in the file's place stands for a read-only one).
    const kept = readFileSync(a.file, "utf8");
    unlinkSync(a.file);
    mkdirSync(a.file);
    await a.feed.close();
    expect(a.lines.filter((l) => l.level === 40).map((l) => l.msg)).toContainEqual(
      expect.stringMatching(
        /^twins: this clean stop could not be recorded in the convergence history .*convergence-history\.jsonl \(EISDIR.*\): the next start reads no stop, and cannot tell it from a kill -9$/,
      ),
    );
    rmSync(a.file, { recursive: true });
    writeFileSync(a.file, kept); // the disk writable again
    const b = await start(dir, 60_000);
    const restored = b.lines.find((l) => l.msg.includes("restored"))?.msg ?? "";
    expect(restored).toContain(
      "a clean stop it could not write down (a disk read-only or full then; that stop said so)",
    );
    expect(restored).not.toContain("without a goodbye");
  });

  it("tells its failing writes, since when and why, until one succeeds (for /healthz and /metrics)", async () => {
    // Logged only, before: /healthz said {"ok":true} and no metric moved while the chart was unkept.
    const dir = mkdir();
    const a = await start(dir, 0);
    await a.step(2, HISTORY_FLUSH_MS);
    expect(a.feed.historyUnwritten).toBeUndefined();
    unlinkSync(a.file);
    mkdirSync(a.file); // the file refused (a directory in its place, as a read-only disk refuses it)
    await a.step(3, HISTORY_FLUSH_MS);
    expect(a.feed.historyUnwritten).toEqual({
      since: 10_000,
      file: a.file,
      cause: expect.stringMatching(/^EISDIR/),
    });
    rmSync(a.file, { recursive: true }); // writable again: the next write is a whole one, and succeeds
    await a.step(4, HISTORY_FLUSH_MS);
    expect(a.feed.historyUnwritten).toBeUndefined();
    await a.feed.close();
  });

  it("writes a file removed while the service runs again whole, so the next start reads it", async () => {
    const dir = mkdir();
    const a = await start(dir, 0);
    await a.step(4, HISTORY_FLUSH_MS);
    unlinkSync(a.file); // rm T/convergence-history.jsonl, the service running
    await a.step(2, HISTORY_FLUSH_MS);
    expect(readFileSync(a.file, "utf8").split("\n")[0]).toContain('"history":"twinfleet convergence"');
    expect(a.lines.filter((l) => l.level === 40).map((l) => l.msg)).toEqual([
      expect.stringContaining(
        "was gone (removed or moved while the service ran): written again from the 2 points",
      ),
    ]);
    await a.step(3, HISTORY_FLUSH_MS);
    await a.feed.close();
    const b = await start(dir, 60_000);
    expect(b.lines.filter((l) => l.level === 40)).toEqual([]);
    expect(b.feed.history().map((p) => [p.t, p.inSync, p.stoppedUntil])).toEqual([
      [0, 4, undefined],
      [5_000, 2, undefined],
      [10_000, 3, undefined],
      [15_000, 3, 60_000],
    ]);
  });

  it("leaves out records dated after the start (a clock set back), said, the gap from the last before it", async () => {
    const dir = mkdir();
    const a = await start(dir, 100_000);
    await a.step(4, 1000);
    await a.step(2, HISTORY_FLUSH_MS);
    await a.feed.close(); // stopped cleanly at 106 s
    const file = join(dir, HISTORY_FILE);
    const lines = readFileSync(file, "utf8").trim().split("\n");
    // the last point dated an hour ahead, as written by a host whose clock was set back since
    const last = lines.length - 2;
    lines[last] = (lines[last] ?? "").replace('"t":101000', '"t":3701000');
    writeFileSync(file, `${lines.join("\n")}\n`);
    const b = await start(dir, 130_000);
    // not a zero-width gap at the start with the last share drawn on through the 24 s it was down
    expect(b.feed.history().map((p) => [p.t, p.inSync, p.stoppedUntil])).toEqual([
      [100_000, 4, undefined],
      [106_000, 4, 130_000],
    ]);
    expect(b.lines.filter((l) => l.level === 40).map((l) => l.msg)).toEqual([
      expect.stringContaining("1 record(s) dated after this start (up to 1970-01-01T01:01:41.000Z"),
    ]);
    expect(b.lines.find((l) => l.msg.includes("restored"))?.msg).toContain(
      "not running from 1970-01-01T00:01:46.000Z",
    );
  });

  it("moves another fleet's history aside, not shown as this fleet's", async () => {
    const dir = mkdir();
    const a = await start(dir, 0, 16, "tf");
    await a.step(4, HISTORY_FLUSH_MS);
    await a.feed.close();
    const file = join(dir, HISTORY_FILE);
    const tf = readFileSync(file, "utf8");
    expect(tf.split("\n")[0]).toContain('"fleet":"tf"');
    // the same directory given to a service on prefix lab
    const b = await start(dir, 60_000, 16, "lab");
    expect(b.feed.history()).toEqual([]);
    expect(b.lines.filter((l) => l.level === 40).map((l) => l.msg)).toEqual([
      expect.stringContaining(
        "is not read (it is the history of the fleet under prefix tf, and this service watches prefix lab): moved to",
      ),
    ]);
    expect(readFileSync(`${file}.other-fleet`, "utf8")).toBe(tf);
    await b.feed.close();
    // a file from before the header named its fleet is taken as this fleet's
    writeFileSync(file, tf.replace(',"fleet":"tf"', ""));
    const c = await start(dir, 90_000, 16, "lab");
    expect(c.feed.history().map((p) => [p.t, p.stoppedUntil])).toEqual([
      [0, undefined],
      [5_000, 90_000],
    ]);
  });

  it("dates the clean stop as the points, so the next start's gap begins at the stop's time", async () => {
    // a run's clock whose date offset is not a whole ms (sim --twins-data: the run's start)
    const epochMs = 1_796_600_000_000.6;
    const dir = mkdir();
    const a = await start(dir, 0, 16, "tf", epochMs);
    await a.step(4, HISTORY_FLUSH_MS);
    await a.step(2, 1000);
    await a.feed.close(); // at 6 s, 1 s after the last point
    const lines = readFileSync(join(dir, HISTORY_FILE), "utf8").trim().split("\n");
    expect(lines.slice(-2)).toEqual([
      '{"t":1796600005001,"fraction":0.5,"inSync":2,"known":4}',
      '{"stop":1796600006001}',
    ]);
    const b = await start(dir, 20_000, 16, "tf", epochMs);
    expect(b.feed.history().at(-1)).toMatchObject({ t: 6000, inSync: 2, stoppedUntil: 20_000 });
  });

  it("keeps dates in the file, so a run whose clock starts at 0 reads the run before it", async () => {
    // sim --twins-data: the run's twins service counts ms from the run's start
    const dir = mkdir();
    const a = await start(dir, 0, 16, "tf", 1_796_600_000_000);
    await a.step(4, 1000);
    await a.step(2, HISTORY_FLUSH_MS);
    await a.feed.close(); // at 6 s into the run
    const lines = readFileSync(join(dir, HISTORY_FILE), "utf8").trim().split("\n");
    expect(lines.at(-1)).toBe('{"stop":1796600006000}');
    // the next run on the same directory, started 60 s after the first
    const b = await start(dir, 0, 16, "tf", 1_796_600_060_000);
    expect(b.feed.history().map((p) => [p.t, p.inSync, p.stoppedUntil])).toEqual([
      [-60_000, 4, undefined],
      [-59_000, 2, undefined],
      [-54_000, 2, 0],
    ]);
    expect(b.lines.filter((l) => l.level === 40)).toEqual([]);
    expect(b.lines.find((l) => l.msg.includes("restored"))?.msg).toContain(
      "not running from 2026-12-06T23:33:26.000Z (it stopped cleanly then) to 2026-12-06T23:34:20.000Z",
    );
  });
});
