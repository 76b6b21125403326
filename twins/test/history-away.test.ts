/**
 * The broker's outages kept in the convergence history (twins/broker-spans.ts, history-file.ts,
 * history-keeper.ts): the charts' `broker away` band was held in memory only, so after a restart the
 * recent chart drew the share before an outage held on through it, while the minutes said `away`.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, expect, it } from "vitest";
import { HISTORY_FILE, parseHistory } from "../history-file.js";
import { HISTORY_FLUSH_MS } from "../history-keeper.js";
import { keptFeed } from "./reports.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const mkdir = () => {
  const d = mkdtempSync(join(tmpdir(), "history-away-"));
  dirs.push(d);
  return d;
};

/**
 * A feed on `dir`'s history, started at `at` on a fake clock whose dates are `epochMs` ahead; `lost`:
 * the broker lost at once, while the start's rewrite of the file is under way.
 */
const start = (dir: string, at: number, epochMs = 1_796_600_000_000, lost = false) =>
  keptFeed(join(dir, HISTORY_FILE), { at, epochMs, lost, logger: pino({ level: "silent" }) });

const header = (dir: string) =>
  JSON.parse(readFileSync(join(dir, HISTORY_FILE), "utf8").split("\n")[0] ?? "");

it("keeps the broker's outages across a restart, so the chart's band comes back with the points", async () => {
  const dir = mkdir();
  const a = await start(dir, 0);
  await a.step(4, HISTORY_FLUSH_MS);
  expect(header(dir).format).toBe(2); // no outage: a build reading format 2 reads it
  a.feed.broker(false, 4_000, "silent"); // at 5 s: silent since 4 s
  await a.step(4, 3_000);
  a.feed.broker(false, undefined, "lost"); // the same outage, its connection dropped at 8 s
  await a.step(4, 11_000);
  a.feed.broker(true); // back at 19 s
  await a.step(3, HISTORY_FLUSH_MS);
  expect(a.feed.away()).toEqual([{ from: 4_000, to: 19_000 }]);
  await a.feed.close();
  expect(header(dir).format).toBe(3);
  const b = await start(dir, 60_000);
  expect(b.feed.away()).toEqual([{ from: 4_000, to: 19_000 }]);
  // Its outages go on after the ones kept.
  b.feed.broker(false, undefined, "lost"); // at its start, 60 s
  await b.step(4, 2_000);
  b.feed.broker(true);
  await b.step(4, HISTORY_FLUSH_MS);
  expect(b.feed.away()).toEqual([
    { from: 4_000, to: 19_000 },
    { from: 60_000, to: 62_000 },
  ]);
  b.feed.stop();
  await b.feed.historyWritten();
});

it("ends an outage under way at a kill where the service stopped, not at the next start", async () => {
  const dir = mkdir();
  const a = await start(dir, 0);
  await a.step(4, 2_000);
  a.feed.broker(false, 2_000, "lost");
  await a.step(4, 70_000); // written: the outage open, then an alive line a minute on
  a.feed.stop(); // kill -9 at 72 s, the broker still away
  await a.feed.historyWritten();
  const b = await start(dir, 300_000);
  const [span] = b.feed.away();
  expect(span?.from).toBe(2_000);
  // The gap of the restart starts where the outage ends: nothing says the broker was away after.
  const marker = b.feed.history().find((p) => p.stoppedUntil !== undefined);
  expect(span?.to).toBe(marker?.t);
  expect(span?.to).toBeGreaterThanOrEqual(60_000);
  expect(span?.to).toBeLessThanOrEqual(72_000);
  b.feed.stop();
  await b.feed.historyWritten();
  // Killed before anything was written after an outage's start: all of it is in the gap, no span.
  const c = await start(dir, 400_000);
  c.feed.broker(false, undefined, "lost");
  await c.step(4, HISTORY_FLUSH_MS);
  c.feed.stop();
  await c.feed.historyWritten();
  const d = await start(dir, 500_000);
  expect(d.feed.away()).toEqual([span]);
  d.feed.stop();
  await d.feed.historyWritten();
});

it("writes the file again whole as format 3 for an outage that opens during a rewrite", async () => {
  const dir = mkdir();
  const a = await start(dir, 0, undefined, true);
  expect(header(dir).format).toBe(2); // the start's rewrite: before the outage
  await a.step(4, HISTORY_FLUSH_MS);
  // Not appended to the format 2 file: a build reading format 2 would drop the line as damage.
  expect(header(dir).format).toBe(3);
  expect(readFileSync(join(dir, HISTORY_FILE), "utf8")).toContain('{"away":1796600000000}');
  a.feed.stop();
  await a.feed.historyWritten();
});

it("reads an outage's later line in the place of its open one, and refuses a newer format", () => {
  const text = [
    '{"format":3,"history":"twinfleet convergence","fleet":"tf"}',
    '{"t":1000,"fraction":1,"inSync":4,"known":4}',
    '{"away":2000}',
    '{"away":1500,"to":3000}',
    '{"away":5000}',
    '{"stop":6000}',
  ].join("\n");
  const read = parseHistory(text, 16);
  expect(read.kind === "read" && read.history.away).toEqual([{ from: 1500, to: 3000 }, { from: 5000 }]);
  const newer = parseHistory(text.replace('"format":3', '"format":5'), 16);
  expect(newer.kind).toBe("refused");
});
