/**
 * A test write of a service's data directory: finds a directory remounted read-only or filled while
 * the service writes nothing (the twins' saver runs it every 30 s: twins/desire-saver.ts; the broker
 * too: broker/store-probe.ts). Its file is `<service>.probe.<pid>.<seq>.tmp`; one a process killed
 * between the write and the removal left is removed at the next start, once that process is gone.
 */
import { open, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { processAlive } from "./process-alive.js";

/** The test write's file, named as the service's temporary files are: `<service>.probe.<pid>.<seq>.tmp`. */
export const probeFile = (dir: string, service: string, seq: number) =>
  join(dir, `${service}.probe.${process.pid}.${seq}.tmp`);
let probes = 0;

/**
 * Writes a small file in `dir`, syncs it to the disk and removes it: rejects as a save would on a
 * file system remounted read-only (EROFS), a full disk (ENOSPC) or an I/O error (EIO), the error
 * naming the file (a failed write's or sync's error does not: `ENOSPC: no space left on device, write`,
 * given here as `…, write '<file>'`). The file is removed even when its write or sync failed.
 */
export async function probeWritable(dir: string, service: string): Promise<void> {
  const file = probeFile(dir, service, probes++);
  const fh = await open(file, "w");
  try {
    await fh.writeFile(`${service}: a test write of the data directory\n`);
    await fh.sync();
  } catch (err) {
    throw named(err, file);
  } finally {
    await fh.close().catch(() => {});
    await rm(file, { force: true }).catch(() => {});
  }
}

/**
 * Removes the test writes' files of `service` in `dir` whose process is gone (`kill -9` between a test
 * write and its removal leaves one); resolves to their names. Only files named as a test write's,
 * of a pid that does not run (node/process-alive.ts): a live process's own is its to remove.
 */
export async function removeOrphanProbes(dir: string, service: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(dir)) {
    const pid = probeName(service).exec(name)?.[1];
    if (pid === undefined || Number(pid) === process.pid || processAlive(Number(pid))) continue;
    await rm(join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}

/** A test write's file name, its pid captured. */
const probeName = (service: string) =>
  new RegExp(`^${service.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\.probe\\.([1-9]\\d{0,9})\\.\\d+\\.tmp$`);

/** `err` with `file` named in its message, as Node names it in a failed open's; its code kept. */
function named(err: unknown, file: string): unknown {
  if (!(err instanceof Error) || err.message.includes(file)) return err;
  const e = new Error(`${err.message} '${file}'`, { cause: err }) as NodeJS.ErrnoException;
  const code = (err as NodeJS.ErrnoException).code;
  if (code !== undefined) e.code = code;
  return e;
}
