/**
 * A data file that is no regular file (a FIFO left by a test harness or a log shipper's named pipe, a
 * directory made in its place): the start says which file and what it is, the store stops (exit 1 in
 * the CLI), the history is left alone and kept in memory, and nothing is moved or removed. Before, a
 * FIFO in the place of `twins.json`, `twins.journal` or the history blocked the start for ever, silent,
 * as its open waited for a writer (a SIGTERM then waited too).
 */

import { execFileSync } from "node:child_process";
import { constants } from "node:fs";
import { mkdir, mkdtemp, open, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { HISTORY_FILE, readHistory } from "../history-file.js";
import { jsonFileStore, STORE_FILE } from "../store.js";
import { JOURNAL_FILE } from "../store-journal.js";

let dir: string | undefined;
afterEach(async () => {
  if (dir === undefined) return;
  // A reader still waiting on a FIFO (a build that opened it blocking) is let go: the pipe gets a writer.
  for (const name of [STORE_FILE, JOURNAL_FILE, HISTORY_FILE])
    await open(join(dir, name), constants.O_WRONLY | constants.O_NONBLOCK)
      .then((fh) => fh.close())
      .catch(() => {});
  await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function withFifo(name: string): Promise<string> {
  dir = await mkdtemp(join(tmpdir(), "tf-data-kinds-"));
  execFileSync("mkfifo", [join(dir, name)]);
  return dir;
}

const SNAPSHOT = `${JSON.stringify({ format: 3, journal: 2, fleet: "tf", nodes: {} }, null, 1)}\n`;

it("stops on a FIFO in the place of twins.json, naming it, and leaves it there", async () => {
  const d = await withFifo(STORE_FILE);
  const store = await jsonFileStore(d);
  await expect(store.load("tf")).rejects.toThrow(
    `twins store ${join(d, STORE_FILE)} cannot be read: it is a FIFO (named pipe), not a regular file; move it away to start without it`,
  );
  await store.close();
  expect((await stat(join(d, STORE_FILE))).isFIFO()).toBe(true);
});

it("stops on a FIFO or a directory in the place of twins.journal, naming it, and leaves both files", async () => {
  for (const make of ["fifo", "directory"] as const) {
    const d =
      make === "fifo" ? await withFifo(JOURNAL_FILE) : await mkdtemp(join(tmpdir(), "tf-data-kinds-"));
    dir = d;
    if (make === "directory") await mkdir(join(d, JOURNAL_FILE));
    await writeFile(join(d, STORE_FILE), SNAPSHOT);
    const store = await jsonFileStore(d);
    const what = make === "fifo" ? "it is a FIFO (named pipe), not a regular file" : "it is a directory";
    await expect(store.load("tf")).rejects.toThrow(
      `twins journal ${join(d, JOURNAL_FILE)} cannot be read: ${what}; `,
    );
    await store.close();
    const kept = await stat(join(d, JOURNAL_FILE));
    expect(make === "fifo" ? kept.isFIFO() : kept.isDirectory()).toBe(true);
    expect((await stat(join(d, STORE_FILE))).size).toBe(SNAPSHOT.length);
    await rm(d, { recursive: true, force: true });
  }
});

it("leaves a FIFO in the place of the history alone, refused and named", async () => {
  const d = await withFifo(HISTORY_FILE);
  expect(await readHistory(join(d, HISTORY_FILE), 16)).toEqual({
    kind: "refused",
    why: "it is a FIFO (named pipe), not a regular file",
  });
  expect((await stat(join(d, HISTORY_FILE))).isFIFO()).toBe(true);
});
