/**
 * The twins store's directory beside its state, as the store opens: the removal of temporary files a
 * killed process left (a save's, and a test write's: node/dir-probe.ts, run by twins/desire-saver.ts)
 * when the process that wrote them is gone. The test writes' are found and removed as the broker's
 * are, by node/dir-probe.ts's removeOrphanProbes, under the service name the store writes them with.
 */
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { removeOrphanProbes } from "../node/dir-probe.js";
import { processAlive } from "../node/process-alive.js";

/** The name the store's test writes go under: `twins.probe.<pid>.<n>.tmp` (node/dir-probe.ts). */
export const PROBE_SERVICE = "twins";

/** Removes the temporary files in `dir` whose process is gone (a crash mid-write leaves them). */
export async function removeOrphanTemps(dir: string): Promise<void> {
  const temp = /^twins\.(?:json|journal)\.(\d+)\.\d+\.tmp$/;
  for (const name of await readdir(dir)) {
    const pid = temp.exec(name)?.[1];
    if (pid !== undefined && !processAlive(Number(pid))) await rm(join(dir, name), { force: true });
  }
  await removeOrphanProbes(dir, PROBE_SERVICE);
}
