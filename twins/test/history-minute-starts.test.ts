/**
 * The minutes kept across a restart start on the clock's minutes (twins/history-file.ts): a real
 * clock's date minus its time (the ms offset each minute is written with) differs by a millisecond or
 * so from one start of the service to the next, and the minutes read back were told starting at
 * 13:37:00.001 beside the running service's 13:38:00.000.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, expect, it } from "vitest";
import { HISTORY_FILE } from "../history-file.js";
import { MINUTE_MS } from "../minute-tier.js";
import { keptFeed } from "./reports.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const EPOCH = 1_796_600_000_000;
const logger = pino({ level: "silent" });

it("reads the minutes a service wrote back on the minutes of the clock of the next, its date a ms apart", async () => {
  const dir = mkdtempSync(join(tmpdir(), "history-minute-starts-"));
  dirs.push(dir);
  const file = join(dir, HISTORY_FILE);
  const a = await keptFeed(file, { at: 0, epochMs: EPOCH + 1, logger }); // its dates 1 ms further on
  await a.step(4, 3 * MINUTE_MS + 5_000);
  await a.feed.close();
  const b = await keptFeed(file, { at: 5 * MINUTE_MS, epochMs: EPOCH, logger });
  const starts = b.feed.minutes().map((m) => m.t);
  expect(starts).toEqual([0, 1, 2, 3, 4, 5].map((i) => i * MINUTE_MS));
  b.feed.stop();
  await b.feed.historyWritten();
});
