/**
 * The twins store's directory beside its state: a test write that finds a directory gone read-only
 * or full while nothing changes (the saver runs it every `WRITE_PROBE_MS`: twins/desire-saver.ts),
 * and, as the store opens, the removal of temporary files a killed process left (a save's, a test
 * write's) when the process that wrote them is gone.
 */
import { open, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { processAlive } from "../node/process-alive.js";

/** The test write's file: `twins.probe.<pid>.<seq>.tmp`, as a save's temporary files are named. */
const probeFile = (dir: string, seq: number) => join(dir, `twins.probe.${process.pid}.${seq}.tmp`);
let probes = 0;

/**
 * Writes a small file in `dir`, syncs it to the disk and removes it: rejects as a save would on a
 * file system remounted read-only (EROFS), a full disk (ENOSPC) or an I/O error (EIO). The file is
 * removed even when its write or sync failed.
 */
export async function probeWritable(dir: string): Promise<void> {
  const file = probeFile(dir, probes++);
  const fh = await open(file, "w");
  try {
    await fh.writeFile("twins: a test write of the data directory\n");
    await fh.sync();
  } finally {
    await fh.close().catch(() => {});
    await rm(file, { force: true }).catch(() => {});
  }
}

/** Removes the temporary files in `dir` whose process is gone (a crash mid-write leaves them). */
export async function removeOrphanTemps(dir: string): Promise<void> {
  const temp = /^twins\.(?:json|journal|probe)\.(\d+)\.\d+\.tmp$/;
  for (const name of await readdir(dir)) {
    const pid = temp.exec(name)?.[1];
    if (pid !== undefined && !processAlive(Number(pid))) await rm(join(dir, name), { force: true });
  }
}
