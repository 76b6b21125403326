/**
 * The twins store's directory beside its state, as the store opens: the removal of temporary files a
 * killed process left (a save's, a test write's: node/dir-probe.ts, run by twins/desire-saver.ts)
 * when the process that wrote them is gone.
 */
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { processAlive } from "../node/process-alive.js";

/** Removes the temporary files in `dir` whose process is gone (a crash mid-write leaves them). */
export async function removeOrphanTemps(dir: string): Promise<void> {
  const temp = /^twins\.(?:json|journal|probe)\.(\d+)\.\d+\.tmp$/;
  for (const name of await readdir(dir)) {
    const pid = temp.exec(name)?.[1];
    if (pid !== undefined && !processAlive(Number(pid))) await rm(join(dir, name), { force: true });
  }
}
