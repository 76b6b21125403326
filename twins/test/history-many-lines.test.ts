/**
 * A convergence history of hundreds of thousands of lines (a service left to write outages for a
 * long time, a file written by another program): a start replays it a line at a time and keeps only
 * what the history holds (the series, the minutes, the last 16 outages), so its cost does not grow
 * with the file's lines. Before, every line was held as a string until the last was read: 1,000,000
 * `{"away":…}` lines took a start to 236 MB (130 MB on the file's other lines alone).
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, expect, it } from "vitest";
import { startable } from "../../node/paths.js";
import { AWAY_SPANS } from "../broker-spans.js";
import { awayLine, HISTORY_FILE } from "../history-file.js";

let dir: string | undefined;
afterEach(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

const EPOCH = 1_796_600_000_000;
const LINES = 400_000;

it("reads 400,000 outage lines within a 32 MB heap, keeping the last 16 as before", async () => {
  dir = await mkdtemp(join(tmpdir(), "tf-history-many-"));
  const file = join(dir, HISTORY_FILE);
  const spans = Array.from({ length: LINES }, (_, i) => ({ from: i * 2_000, to: i * 2_000 + 1_000 }));
  const header = `${JSON.stringify({ format: 3, history: "twinfleet convergence", fleet: "tf" })}\n`;
  await writeFile(file, header + spans.map((s) => awayLine(s, EPOCH)).join(""));
  // Its lines held as strings, a read needs more than 48 MB of heap for them alone.
  const mod = startable("twins/history-file");
  const code = [
    `import { readHistory } from ${JSON.stringify(mod.url.href)};`,
    `const r = await readHistory(${JSON.stringify(file)}, 1024, { offset: ${EPOCH}, fleet: "tf" });`,
    'console.log(JSON.stringify(r.kind === "read" ? { away: r.history.away, lines: r.history.lines, bad: r.history.bad } : r));',
  ].join("\n");
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [...mod.execArgv, "--max-old-space-size=32", "--input-type=module", "-e", code],
    { maxBuffer: 1 << 20 },
  );
  expect(JSON.parse(stdout)).toEqual({ away: spans.slice(-AWAY_SPANS), lines: LINES + 1, bad: { count: 0 } });
}, 120_000);
