// makeDir on a directory already there makes nothing: on a frozen file system (fsfreeze) mkdir of
// an existing directory waits on the thread until the thaw, where a look answers, so a twins
// service started there sat with no line. Here the mkdirSync the module calls is counted.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it, vi } from "vitest";
import { makeDir } from "../make-dir.js";

const made: string[] = [];

vi.mock("node:fs", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:fs")>();
  return {
    ...real,
    mkdirSync: (path: string, opts?: Parameters<typeof real.mkdirSync>[1]) => {
      made.push(path);
      return real.mkdirSync(path, opts);
    },
  };
});

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  made.length = 0;
});

it("makes no directory that is already there, and makes those that are not", () => {
  const root = mkdtempSync(join(tmpdir(), "tf-makedir-"));
  dirs.push(root);
  makeDir(root);
  expect(made).toEqual([]);
  makeDir(join(root, "a", "b"));
  expect(made).toEqual([join(root, "a", "b"), join(root, "a"), join(root, "a", "b")]);
});
