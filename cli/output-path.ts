/**
 * Where a command will write when it is done (`--report`, `--shard-report`, `--out`), checked before
 * the run instead of after it: a run of an hour is not thrown away for a missing directory. The
 * directory is made if it is missing; one that cannot be made or written, or a path that is a
 * directory where a file is wanted, is a usage error naming the flag. Writing it when the run is over
 * goes through writeOutputFile, so a write that still fails (a full disk) names the flag and file.
 * `-` is standard output, as is any name for it (`/dev/stdout`, node/whole-file.ts `isStdout`): the
 * caller then prints its summary on stderr, so that `--report - | jq` reads JSON only.
 */
import { accessSync, constants, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { makeDir } from "../node/make-dir.js";
import { shownPath } from "../protocol/shown.js";
import { UsageError } from "./errors.js";

function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ?? e.message;
}

/** Checks that `path` can be written as a file; `flag` names it in the error. */
export function checkOutputFile(flag: string, path: string): void {
  if (path === "-") return;
  if (path.trim() === "") throw new UsageError(`${flag}: must name a file`);
  if (isDir(flag, path)) throw new UsageError(`${flag}: ${path} is a directory; name a file`);
  checkDir(flag, dirname(resolve(path)), path);
  checkSpelled(flag, path);
}

/**
 * The system walks a path as it is written: `x/../f.json` needs `x`, and `link/..` is the parent of
 * the link's target, where resolve() drops both. Such a path passed the check above and failed at
 * the write, after the run, with a bare ENOENT.
 */
function checkSpelled(flag: string, path: string): void {
  const dir = dirname(path);
  if (!dir.split(/[\\/]/).includes("..")) return;
  try {
    accessSync(dir, constants.W_OK);
  } catch (err) {
    const code = reason(err);
    const why =
      code === "ENOENT"
        ? "has a directory before its .. that does not exist (ENOENT): the path is followed as written; make that directory or leave the .. out"
        : describe(code);
    throw new UsageError(`${flag}: cannot write ${shownPath(path)}: ${shownPath(dir)} ${why}`);
  }
}

/**
 * Writes a file checked by checkOutputFile before the run; a failure now (ENOSPC, EIO) is a runtime
 * error naming the flag and the file instead of a bare system message.
 */
export function writeOutputFile(flag: string, path: string, write: (path: string) => void): void {
  try {
    write(path);
  } catch (err) {
    throw new Error(`${flag}: cannot write ${shownPath(path)}: ${fileProblem(reason(err))}`);
  }
}

/** Checks that `dir` is (or can be made) a directory the command can write in. */
export function checkOutputDir(flag: string, dir: string): void {
  if (dir.trim() === "") throw new UsageError(`${flag}: must name a directory`);
  checkDir(flag, resolve(dir), dir);
}

function isDir(flag: string, path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch (err) {
    // A name the file system cannot hold would only fail at the write, after the run.
    const code = reason(err);
    if (code === "ENAMETOOLONG" || code === "ELOOP")
      throw new UsageError(`${flag}: cannot write ${shownPath(path)}: ${fileProblem(code)}`);
    return false; // missing, or under a file: checkDir says which
  }
}

function checkDir(flag: string, dir: string, given: string): void {
  try {
    makeDir(dir);
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw new UsageError(
      `${flag}: cannot write ${shownPath(given)}: ${shownPath(dir)} ${describe(reason(err))}`,
    );
  }
}

function describe(code: string): string {
  switch (code) {
    case "ENOENT":
      return "cannot be made (ENOENT)";
    case "ENOTDIR":
      return "lies under a file (ENOTDIR)";
    case "EEXIST":
      return "is a file (EEXIST)";
    case "EACCES":
    case "EPERM":
    case "EROFS":
      return `is not writable (${code})`;

    default:
      return `cannot be used (${code})`;
  }
}

/** What is wrong with a file itself (not its directory). */
function fileProblem(code: string): string {
  switch (code) {
    case "ENAMETOOLONG":
      return "the name is too long (ENAMETOOLONG)";
    case "ELOOP":
      return "too many levels of symbolic links (ELOOP)";
    case "ENOSPC":
      return "no space left on the device (ENOSPC)";
    case "ENOENT":
      return "a directory on its path does not exist (ENOENT)";
    case "ENOTDIR":
      return "a part of the path is not a directory (ENOTDIR)";
    case "EACCES":
    case "EPERM":
    case "EROFS":
      return `not writable (${code})`;
    default:
      return code;
  }
}
