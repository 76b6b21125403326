/**
 * LevelDB's background error. A table write that fails (the memory table flushed to a table file,
 * or a compaction) stops every later write, each failing with that table's error, until the
 * database is opened again, even once there is room. On a disk that fills up it is the first thing
 * to fail: the log's appends are small, a table takes megabytes. Measured with classic-level on a
 * 6 MB tmpfs: 16,784 puts, then the flush failed with 760 KB still free, and after 1.5 MB was freed
 * 100 puts of 100 failed. So while writes fail with a table's error, the broker reads the room left
 * on the data directory's file system, and once it holds twice the logs LevelDB replays on opening
 * and 8 MB more, it closes the database and opens it again (broker/level-repair.ts then stores what
 * failed).
 */
import { readdir, stat, statfs } from "node:fs/promises";
import { join } from "node:path";

/** A write refused by LevelDB's background error (a table or the manifest), not by the log. */
export function isTableWriteError(err: unknown): boolean {
  const message = (err as { message?: unknown })?.message;
  return typeof message === "string" && /\.(?:ldb|sst)\b|MANIFEST/.test(message);
}

/** Room beyond twice the logs that an opening needs. */
const SPARE_BYTES = 8 * 1024 * 1024;

/** Whether `dataDir`'s file system has room to open the database again (it replays its logs into tables). */
export async function roomToReopen(
  dataDir: string,
): Promise<{ ok: boolean; freeBytes: number; needBytes: number }> {
  const fs = await statfs(dataDir);
  const freeBytes = fs.bavail * fs.bsize;
  let logBytes = 0;
  for (const name of await readdir(dataDir)) {
    if (name.endsWith(".log")) logBytes += (await stat(join(dataDir, name)).catch(() => ({ size: 0 }))).size;
  }
  const needBytes = 2 * logBytes + SPARE_BYTES;
  return { ok: freeBytes >= needBytes, freeBytes, needBytes };
}
