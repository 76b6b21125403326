/**
 * The twins store's directory beside its state, as the store opens: the removal of temporary files a
 * killed process left (a save's, and a test write's: node/dir-probe.ts, run by twins/desire-saver.ts)
 * when the process that wrote them is gone. The test writes' are found and removed as the broker's
 * are, by node/dir-probe.ts's removeOrphanProbes, under the service name the store writes them with.
 * What is removed is said in one INFO line, in the broker's words (broker/persistence.ts).
 */
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import { removeOrphanProbes } from "../node/dir-probe.js";
import { processAlive } from "../node/process-alive.js";

/** The name the store's test writes go under: `twins.probe.<pid>.<n>.tmp` (node/dir-probe.ts). */
export const PROBE_SERVICE = "twins";

/**
 * Removes the temporary files in `dir` whose process is gone (a crash mid-write leaves them), said to
 * `logger` in one line naming them (`files`); resolves to their names.
 */
export async function removeOrphanTemps(dir: string, logger?: Logger): Promise<string[]> {
  const temp = /^twins\.(?:json|journal)\.(\d+)\.\d+\.tmp$/;
  const saves: string[] = [];
  for (const name of await readdir(dir)) {
    const pid = temp.exec(name)?.[1];
    if (pid === undefined || processAlive(Number(pid))) continue;
    await rm(join(dir, name), { force: true });
    saves.push(name);
  }
  const files = [...saves, ...(await removeOrphanProbes(dir, PROBE_SERVICE))];
  if (files.length > 0)
    logger?.info({ files }, orphansLine(dir, saves.length < files.length, saves.length > 0));
  return files;
}

/** The line for what was removed: the broker's words for test writes, a save's temporary files named too. */
const orphansLine = (dir: string, probes: boolean, saves: boolean) =>
  `${dir}: ${probes ? (saves ? "test-write and save temporary files" : "test-write files") : "save temporary files"} left by a killed run removed`;
