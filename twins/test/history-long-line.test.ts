/**
 * A convergence history with a line of megabytes in it (a hand's edit, another program's output
 * written over the file): the start passes over it as it reads, naming it by line and length, and
 * reads the records around it; the line is never held whole. Before, the whole file was read as one
 * string and the line was "not a history record" (a 100 MB line took the start to 389 MB).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { eachBoundedLine } from "../bounded-lines.js";
import { HISTORY_MAX_LINE_BYTES, minuteLine, pointLine, readHistory } from "../history-file.js";

let dir: string | undefined;
afterEach(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

const header = `${JSON.stringify({ format: 2, history: "twinfleet convergence", fleet: "tf" })}\n`;
const EPOCH = 1_796_600_000_000;

it("names a line of 3 MB by its number and length, and reads the records on both sides of it", async () => {
  dir = await mkdtemp(join(tmpdir(), "tf-history-long-"));
  const file = join(dir, "convergence-history.jsonl");
  const huge = `{"t":${EPOCH + 150_000},"fraction":1,"pad":"${"x".repeat(3 * 1024 * 1024)}"}\n`;
  await writeFile(
    file,
    header +
      pointLine({ t: 100_000, fraction: 1, inSync: 4, known: 4 }, false, EPOCH) +
      huge +
      pointLine({ t: 200_000, fraction: 0.5, inSync: 2, known: 4 }, false, EPOCH) +
      minuteLine({ t: 60_000, fraction: 0.5, inSync: 2, known: 4, online: 4 }, EPOCH),
  );
  const read = await readHistory(file, 16, { offset: EPOCH, notAfter: 600_000, fleet: "tf" });
  if (read.kind !== "read") throw new Error(`not read: ${read.kind}`);
  expect(read.history.bad).toEqual({
    count: 1,
    first: `line 3 is ${huge.length - 1} bytes long, where a record is at most ${HISTORY_MAX_LINE_BYTES} (not read)`,
  });
  expect(read.history.points.map((p) => p.t)).toEqual([100_000, 200_000]);
  expect(read.history.minutes.map((m) => m.t)).toEqual([60_000]);
});

it("reads lines across its chunks as the file has them, passing over the long one", async () => {
  dir = await mkdtemp(join(tmpdir(), "tf-history-long-"));
  const file = join(dir, "lines");
  const across = `${"é".repeat(600_000)}`; // 1.2 MB of two-byte characters: split by chunks mid-character
  await writeFile(file, `a\n${across}\n\n${"y".repeat(2_000_000)}\nlast`);
  const lines: (string | undefined)[] = [];
  const long: [number, number, number][] = [];
  const count = await eachBoundedLine(file, 1_500_000, (line, at) => {
    lines.push(line);
    if (line === undefined) long.push([at.index, at.offset, at.bytes]);
    return true;
  });
  expect(lines).toEqual(["a", across, "", undefined, "last"]);
  expect(long).toEqual([[3, 2 + 1_200_001 + 1, 2_000_000]]);
  expect(count).toBe(5);
});
