/**
 * A sweep's hold on its `--out` directory (`sweep.lock`: the pid, who the process is, its host), for
 * as long as it runs: a second sweep into the same directory — another scenario into the default
 * `sweep-report`, a `--resume` of a sweep that still runs — is refused instead of replacing the first
 * one's files with its own after each point. A lock whose process is gone (kill -9, a power cut) is
 * taken over, also when another process has its pid since (node/process-alive.ts).
 */
import { linkSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { lockHeld, lockLine, lockWriter } from "../node/process-alive.js";
import { shownPath } from "../protocol/shown.js";
import { UsageError } from "./errors.js";

export const SWEEP_LOCK = "sweep.lock";

/** Takes `dir` (which exists) for this process; returns the release, which may be called more than once. */
export function holdSweepOut(dir: string): () => void {
  const lock = join(dir, SWEEP_LOCK);
  const host = hostname();
  for (let tries = 0; ; tries++) {
    // Written whole beside it, then linked to its name (which fails if it exists): a sweep starting
    // at the same moment never reads a lock made and not yet written, and takes it for a dead one's.
    const tmp = join(dir, `.${SWEEP_LOCK}.${process.pid}.tmp`);
    try {
      writeFileSync(tmp, `${lockLine()}\nhost ${host}\n`);
      linkSync(tmp, lock);
      rmSync(tmp, { force: true });
      let held = true;
      return () => {
        if (!held) return;
        held = false;
        rmSync(lock, { force: true });
      };
    } catch (e) {
      rmSync(tmp, { force: true });
      if ((e as NodeJS.ErrnoException).code !== "EEXIST" || tries > 2)
        throw new UsageError(`--out: cannot write ${shownPath(lock)}: ${(e as Error).message}`);
    }
    const holder = readHolder(lock);
    if (holder !== undefined) {
      const where = holder.host === host ? "" : ` on ${holder.host}`;
      throw new UsageError(
        `--out: ${shownPath(dir)} is in use by another twinfleet sweep (pid ${holder.pid}${where}, ${shownPath(lock)}): two sweeps writing one --out replace each other's files after every point; wait for it to end, or give this one another --out${where ? ` (if it runs no more, remove ${shownPath(lock)})` : ""}`,
      );
    }
    rmSync(lock, { force: true }); // its sweep is gone: killed, or its host restarted
  }
}

/** The live sweep a lock names; undefined when its process is gone (or the file is unreadable). */
function readHolder(lock: string): { pid: number; host: string } | undefined {
  let text: string;
  let writtenAt: number | undefined;
  try {
    text = readFileSync(lock, "utf8");
    writtenAt = statSync(lock).mtimeMs;
  } catch {
    return undefined;
  }
  const writer = lockWriter(text);
  const { pid } = writer;
  const host =
    text
      .split("\n")
      .find((l) => l.startsWith("host "))
      ?.slice(5)
      .trim() || hostname();
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  // Another host's process cannot be looked at from here: taken for running.
  if (host !== hostname()) return { pid, host };
  return lockHeld(writer, writtenAt) ? { pid, host } : undefined;
}
