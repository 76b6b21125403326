/**
 * The minute a restart of the twins service falls in (twins/minute-tier.ts), on a fake clock: it
 * was opened again from the restart's marker alone, so the points measured in it before the stop,
 * kept in the history file, were left out of it, its lowest among them (a kill -9 at :22 and a
 * start at :27 made a minute whose lowest was 137 of 200 at :09 read 181 of 200, measured after).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, expect, it } from "vitest";
import { HISTORY_FILE } from "../history-file.js";
import { HISTORY_FLUSH_MS } from "../history-keeper.js";
import { MINUTE_MS } from "../minute-tier.js";
import { keptFeed } from "./reports.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const T0 = 10 * 60 * MINUTE_MS;

it("keeps the points measured in the minute before a restart in it", async () => {
  const dir = mkdtempSync(join(tmpdir(), "minute-restart-"));
  dirs.push(dir);
  const start = (at: number) => keptFeed(join(dir, HISTORY_FILE), { at, logger: pino({ level: "silent" }) });
  const a = await start(T0 - 30_000); // the fleet known before the minute: not a joining one
  await a.step(4, 40_000); // 10:00:10
  await a.step(1, 2_000); // a dip of 2 s: 1 of 4
  await a.step(4, 2 * HISTORY_FLUSH_MS); // written
  expect(a.feed.minutes().at(-1)).toMatchObject({ t: T0, inSync: 1 });
  a.feed.stop(); // kill -9 at 10:00:22
  await a.feed.historyWritten();
  const b = await start(T0 + 27_000);
  expect(b.feed.minutes().at(-1)).toEqual({ t: T0, fraction: 0.25, inSync: 1, known: 4, down: true });
  await b.step(4, MINUTE_MS); // closed and kept as such
  expect(b.feed.minutes().find((m) => m.t === T0)).toMatchObject({ inSync: 1, down: true });
  b.feed.stop();
  await b.feed.historyWritten();
});
