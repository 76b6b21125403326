/**
 * `mkdir -p` that always ends. Node's own recursive mkdir (20.x, and later as far as checked) never
 * returns for a path whose parent exists but cannot hold it — any path under /proc, where mkdir
 * answers ENOENT: it takes that for a missing parent, makes the parent (EEXIST) and tries again,
 * forever (the async form never settles; the sync form spins the thread). Here a component is made
 * once its parent is there, and an ENOENT then is final. Synchronous: it runs once, at start-up or
 * before a run, where nothing else waits on the thread.
 */
import { mkdirSync, statSync } from "node:fs";
import { mkdir, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { shownPath } from "../protocol/shown.js";

/** Makes `dir` and any parents it lacks; returns when it is a directory. Throws as mkdir does. */
export function makeDir(dir: string): void {
  const path = resolve(dir);
  // A directory already there is looked at, not made: mkdir of it waits (on the thread) for a frozen
  // file system (fsfreeze), where a look answers, so a start there could say why it waits.
  if (statSync(path, { throwIfNoEntry: false })?.isDirectory() === true) return;
  try {
    mkdirSync(path);
  } catch (err) {
    if (isDir(err, path)) return;
    const parent = dirname(path);
    if ((err as NodeJS.ErrnoException).code !== "ENOENT" || parent === path) throw err;
    makeDir(parent);
    try {
      mkdirSync(path);
    } catch (again) {
      if (!isDir(again, path)) throw again;
    }
  }
}

/**
 * `makeDir` off the thread: on a frozen file system (fsfreeze) a new directory's mkdir waits until
 * the thaw, and the sync form held the whole process meanwhile, so a start could not say why it
 * waited (broker/store-open-wait.ts). Here it waits on a worker thread; the same steps and errors.
 */
export async function makeDirAsync(dir: string): Promise<void> {
  const path = resolve(dir);
  if ((await stat(path).catch(() => undefined))?.isDirectory() === true) return;
  try {
    await mkdir(path);
  } catch (err) {
    if (await isDirAsync(err, path)) return;
    const parent = dirname(path);
    if ((err as NodeJS.ErrnoException).code !== "ENOENT" || parent === path) throw err;
    await makeDirAsync(parent);
    try {
      await mkdir(path);
    } catch (again) {
      if (!(await isDirAsync(again, path))) throw again;
    }
  }
}

async function isDirAsync(err: unknown, path: string): Promise<boolean> {
  if ((err as NodeJS.ErrnoException).code !== "EEXIST") return false;
  return (await stat(path).catch(() => undefined))?.isDirectory() === true;
}

/** The error is mkdir's EEXIST and what exists is a directory. */
function isDir(err: unknown, path: string): boolean {
  return (
    (err as NodeJS.ErrnoException).code === "EEXIST" &&
    statSync(path, { throwIfNoEntry: false })?.isDirectory() === true
  );
}

const WHY: Readonly<Record<string, string>> = {
  EEXIST: "a file is there, not a directory",
  ENOTDIR: "a part of the path is a file",
  EACCES: "permission denied",
  EPERM: "not permitted",
  EROFS: "read-only file system",
  ENOSPC: "no space left on the device",
  EDQUOT: "the disk quota is used up",
  EIO: "an I/O error on the device",
  ENOENT: "a part of the path cannot hold a directory",
};

/**
 * `data directory DIR cannot be created: CODE (what it means)`, for a data directory `makeDir` refused;
 * `cannot be written` for one a file could not be made or removed in (a full disk, a read-only mount).
 */
export function dataDirError(dir: string, err: unknown, verb: "created" | "written" = "created"): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === undefined) return new Error(`data directory ${shownPath(dir)} cannot be ${verb}: ${err}`);
  const why = WHY[code];
  return new Error(`data directory ${shownPath(dir)} cannot be ${verb}: ${code}${why ? ` (${why})` : ""}`);
}
