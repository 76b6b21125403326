/**
 * The service's own re-read of the broker's state in the kept convergence history (twins/reread-hold.ts,
 * history-file.ts, history-restore.ts), on a fake clock: the minutes the file lacks at a start are
 * rebuilt from the fine points, and those kept the re-read's half-refreshed view, so a restart soon
 * after a reconnect rebuilt the minute of it with a dip the running service's minute did not have.
 * The points now carry the share from before, `held` (format 4 while the file holds one).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, expect, it } from "vitest";
import { HISTORY_FILE, parseHistory } from "../history-file.js";
import { HISTORY_FLUSH_MS } from "../history-keeper.js";
import { MINUTE_MS } from "../minute-tier.js";
import { keptFeed } from "./reports.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const mkdir = () => {
  const d = mkdtempSync(join(tmpdir(), "history-reread-"));
  dirs.push(d);
  return d;
};

const T0 = 10 * 60 * MINUTE_MS;
const start = (dir: string, at: number) =>
  keptFeed(join(dir, HISTORY_FILE), { at, epochMs: 1_796_600_000_000, logger: pino({ level: "silent" }) });
const header = (dir: string) =>
  JSON.parse(readFileSync(join(dir, HISTORY_FILE), "utf8").split("\n")[0] ?? "");

/** A service on `dir` from T0, all 4 in sync, re-reading the broker's state at 10:00:20 (1 of 4 shown in sync for 2 s). */
async function reread(dir: string) {
  const a = await start(dir, T0 - 30_000); // the minute of the re-read not the fleet's first (joining)
  await a.step(4, 50_000);
  a.feed.reread(true); // a reconnect: the broker replays its retained reports
  await a.step(1, 2_000); // the service's view half refreshed
  await a.step(4, 1_000); // the replay's last reports: all in sync again
  a.feed.reread(false);
  await a.step(4, 2 * HISTORY_FLUSH_MS); // written
  return a;
}

it("rebuilds the minute of a re-read at a restart as the running service had it, not with its dip", async () => {
  const dir = mkdir();
  const a = await reread(dir);
  const live = a.feed.minutes().at(-1);
  expect(live).toMatchObject({ t: T0, fraction: 1, inSync: 4, known: 4 });
  a.feed.stop(); // kill -9 at 10:00:33, the minute not closed: the next start rebuilds it
  await a.feed.historyWritten();
  const b = await start(dir, T0 + 90_000);
  expect(b.feed.minutes().find((m) => m.t === T0)).toEqual({ ...live, down: true });
  // The held points come back as such: the page draws the stretch as the share held.
  expect(b.feed.history().filter((p) => p.held === true && p.inSync === 4).length).toBeGreaterThan(0);
  expect(b.feed.history().some((p) => p.inSync === 1)).toBe(false);
  b.feed.stop();
  await b.feed.historyWritten();
});

it("writes format 4 while the file holds a held point, and a build's format 3 file as before", async () => {
  const dir = mkdir();
  const a = await start(dir, T0);
  await a.step(4, HISTORY_FLUSH_MS);
  expect(header(dir).format).toBe(2); // nothing held: a build reading format 2 or 3 reads it
  a.feed.reread(true);
  await a.step(1, 2_000);
  a.feed.reread(false);
  await a.step(4, HISTORY_FLUSH_MS);
  // Appended to a format 2 file, a build reading format 3 would have left the held points out as damaged.
  expect(header(dir).format).toBe(4);
  await a.feed.close();
  const text = readFileSync(join(dir, HISTORY_FILE), "utf8");
  expect(text).toContain('"held":true');
  const read = parseHistory(text, 16, { offset: 1_796_600_000_000 });
  expect(read.kind === "read" && read.history.bad.count).toBe(0);
  // A format 3 file (an outage, no held point) is read as before.
  const three = `${JSON.stringify({ format: 3, history: "twinfleet convergence" })}\n{"away":1,"to":2}\n{"t":3,"fraction":1,"inSync":4,"known":4}\n`;
  const old = parseHistory(three, 16);
  expect(old.kind === "read" && old.history).toMatchObject({
    points: [{ t: 3, fraction: 1, inSync: 4, known: 4 }],
    away: [{ from: 1, to: 2 }],
    bad: { count: 0 },
  });
});
