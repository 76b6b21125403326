/**
 * Writes an output file whole or not at all, and durably: the text goes to a temporary file beside
 * it, is synced, renamed over the path and the directory synced. A run killed, or a host whose power
 * goes, while a report is written leaves the file before it (or none), never a truncated one, and a
 * report said to be written is on disk (a file written without a sync can be found empty after a
 * power cut: the data are written out seconds after the call). A path that exists and is not a
 * regular file (a pipe, a device) is written in place; a symbolic link's target is replaced. `-`, or
 * a name for the process's standard output (`/dev/stdout`), is written to its descriptor: opening
 * `/dev/stdout` fails (ENXIO) when it is a socket, as a child process's pipes are.
 * Synchronous, as the files are written once, at the end of a run.
 */
import {
  closeSync,
  fstatSync,
  fsyncSync,
  openSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";

let seq = 0;

export function writeFileWhole(path: string, text: string): void {
  if (path === "-") {
    writeFileSync(1, text);
    return;
  }
  let target = path;
  try {
    // stat follows the link (/dev/stdout → /proc/self/fd/1 → a pipe) to what it names; a pipe's
    // "real path" is no path at all (/proc/PID/fd/pipe:[N]).
    const st = statSync(path);
    if (sameAsStdout(st)) {
      writeFileSync(1, text);
      return;
    }
    if (!st.isFile()) {
      writeFileSync(path, text);
      return;
    }
    target = realpathSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  // A short name of its own: the path's name plus a suffix could pass the file system's name limit.
  const tmp = join(dirname(target), `.twinfleet-${process.pid}-${seq++}.tmp`);
  try {
    const fd = openSync(tmp, "w");
    try {
      writeFileSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  const dir = openSync(dirname(target), "r");
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

/** Whether `path` is standard output: `-`, or another name for the file it is (`/dev/stdout`). */
export function isStdout(path: string): boolean {
  if (path === "-") return true;
  try {
    return sameAsStdout(statSync(path));
  } catch {
    return false;
  }
}

/** Whether `st` is the file of this process's standard output (none: a closed descriptor). */
function sameAsStdout(st: { readonly dev: number; readonly ino: number }): boolean {
  try {
    const out = fstatSync(1);
    return st.dev === out.dev && st.ino === out.ino;
  } catch {
    return false;
  }
}
