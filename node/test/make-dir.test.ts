/** makeDir and makeDirAsync (off the thread): mkdir -p that ends, with mkdir's own errors. */
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeDir, makeDirAsync } from "../make-dir.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "twinfleet-mkdir-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const forms: readonly [string, (p: string) => Promise<void>][] = [
  ["makeDir", async (p) => makeDir(p)],
  ["makeDirAsync", makeDirAsync],
];

describe.each(forms)("%s", (_, make) => {
  it("makes every missing parent, and is content with a directory already there", async () => {
    const deep = join(dir, "a", "b", "c");
    await make(deep);
    expect((await stat(deep)).isDirectory()).toBe(true);
    await make(deep);
    await make(join(dir, "a"));
  });

  it("refuses a file in the way as mkdir does", async () => {
    const file = join(dir, "file");
    await writeFile(file, "x");
    await expect(make(file)).rejects.toMatchObject({ code: "EEXIST" });
    await expect(make(join(file, "sub"))).rejects.toMatchObject({ code: "ENOTDIR" });
  });

  it("ends with ENOENT where the parent exists but cannot hold the directory (/proc)", async () => {
    await expect(make("/proc/twinfleet-no-such/a/b")).rejects.toMatchObject({ code: "ENOENT" });
    await expect(make("/proc/twinfleet-no-such")).rejects.toMatchObject({ code: "ENOENT" });
  });
});
