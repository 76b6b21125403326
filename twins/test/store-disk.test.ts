/**
 * A data directory on a disk that fills up or is remounted read-only: the store's start and stop name
 * the directory and the cause in one line, as the failures of the file system are injected here.
 */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, expect, it, vi } from "vitest";

/** The failure each call of the file system on a path ending so meets, by the call's name. */
const failing = new Map<string, { suffix: string; code: string }>();

function errno(code: string, call: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected, ${call} '${path}'`), { code });
}

vi.mock("node:fs/promises", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs/promises")>();
  const fails = (call: string, path: unknown) => {
    const f = failing.get(call);
    return f !== undefined && String(path).endsWith(f.suffix) ? errno(f.code, call, String(path)) : undefined;
  };
  return {
    ...fs,
    // A full disk: the file is made, its bytes are not written.
    writeFile: async (...args: Parameters<typeof fs.writeFile>) => {
      const e = fails("writeFile", args[0]);
      if (e === undefined) return fs.writeFile(...args);
      if (e.code === "ENOSPC") await fs.writeFile(args[0], "", { flag: "wx" });
      throw e;
    },
    rm: async (...args: Parameters<typeof fs.rm>) => {
      const e = fails("rm", args[0]);
      if (e !== undefined) throw e;
      return fs.rm(...args);
    },
  };
});

const { jsonFileStore, LOCK_FILE } = await import("../store.js");

let dir: string | undefined;
afterEach(async () => {
  failing.clear();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it("refuses to start on a full or read-only directory naming it and the cause, and leaves no empty lock", async () => {
  dir = await mkdtemp(join(tmpdir(), "tf-store-disk-"));
  failing.set("writeFile", { suffix: LOCK_FILE, code: "ENOSPC" });
  await expect(jsonFileStore(dir)).rejects.toThrow(
    new Error(`data directory ${dir} cannot be written: ENOSPC (no space left on the device)`),
  );
  expect(await readdir(dir)).toEqual([]);
  failing.set("writeFile", { suffix: LOCK_FILE, code: "EROFS" });
  await expect(jsonFileStore(dir)).rejects.toThrow(
    new Error(`data directory ${dir} cannot be written: EROFS (read-only file system)`),
  );
  // Space again: it starts.
  failing.clear();
  await (await jsonFileStore(dir)).close();
});

it("says a lock it cannot remove on stopping (a read-only remount) as a warning, not an error", async () => {
  dir = await mkdtemp(join(tmpdir(), "tf-store-disk-"));
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: "info" }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  const store = await jsonFileStore(dir, logger);
  failing.set("rm", { suffix: LOCK_FILE, code: "EROFS" });
  await store.close();
  const lock = join(dir, LOCK_FILE);
  expect(lines).toEqual([
    expect.objectContaining({
      level: 40,
      msg: `twins: data directory ${dir} cannot be written: EROFS (read-only file system): its lock ${lock} is left, and the next twins service on it takes it over`,
    }),
  ]);
  // Without a logger the same line is the error.
  failing.clear();
  const bare = await jsonFileStore(dir);
  failing.set("rm", { suffix: LOCK_FILE, code: "EROFS" });
  await expect(bare.close()).rejects.toThrow(`its lock ${lock} is left`);
  // The lock left is taken over by the next start (its process is this one: as gone).
  failing.clear();
  await (await jsonFileStore(dir)).close();
  expect(await readdir(dir)).toEqual([]);
});

it("names the directory when a stale lock cannot be taken over (read-only)", async () => {
  dir = await mkdtemp(join(tmpdir(), "tf-store-disk-"));
  await jsonFileStore(dir); // not closed: killed, its lock left
  failing.set("rm", { suffix: LOCK_FILE, code: "EROFS" });
  await expect(jsonFileStore(dir)).rejects.toThrow(
    new Error(`data directory ${dir} cannot be written: EROFS (read-only file system)`),
  );
});
