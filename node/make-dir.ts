/**
 * `mkdir -p` that always ends. Node's own recursive mkdir (20.x, and later as far as checked) never
 * returns for a path whose parent exists but cannot hold it — any path under /proc, where mkdir
 * answers ENOENT: it takes that for a missing parent, makes the parent (EEXIST) and tries again,
 * forever (the async form never settles; the sync form spins the thread). Here a component is made
 * once its parent is there, and an ENOENT then is final.
 */
import { mkdirSync, statSync } from "node:fs";
import { mkdir, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";

function code(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

/** Makes `dir` and any parents it lacks; resolves when it is a directory. Rejects as mkdir does. */
export async function makeDir(dir: string): Promise<void> {
  const path = resolve(dir);
  try {
    await mkdir(path);
    return;
  } catch (err) {
    if (code(err) === "EEXIST" && (await isDir(path))) return;
    const parent = dirname(path);
    if (code(err) !== "ENOENT" || parent === path) throw err;
    await makeDir(parent);
  }
  try {
    await mkdir(path);
  } catch (err) {
    if (code(err) === "EEXIST" && (await isDir(path))) return;
    throw err;
  }
}

/** `makeDir` for code that has no event loop to wait on (a report written at exit). */
export function makeDirSync(dir: string): void {
  const path = resolve(dir);
  try {
    mkdirSync(path);
    return;
  } catch (err) {
    if (code(err) === "EEXIST" && isDirSync(path)) return;
    const parent = dirname(path);
    if (code(err) !== "ENOENT" || parent === path) throw err;
    makeDirSync(parent);
  }
  try {
    mkdirSync(path);
  } catch (err) {
    if (code(err) === "EEXIST" && isDirSync(path)) return;
    throw err;
  }
}

async function isDir(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() === true;
}

function isDirSync(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() === true;
}
