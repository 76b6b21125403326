/**
 * A save that resolved outlives a power cut: the file is synced before its rename and the directory
 * after it (the rename lives in the directory; unsynced, a power cut can bring back the file before).
 * The order of the syncs and the rename is read off the file system calls the store makes.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it, vi } from "vitest";

const calls: string[] = [];

vi.mock("node:fs/promises", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs/promises")>();
  return {
    ...fs,
    open: async (path: string, flags: string) => {
      const fh = await fs.open(path, flags);
      const sync = fh.sync.bind(fh);
      fh.sync = async () => {
        calls.push(`sync ${path}`);
        await sync();
      };
      return fh;
    },
    rename: async (from: string, to: string) => {
      calls.push(`rename ${to}`);
      await fs.rename(from, to);
    },
  };
});

const { jsonFileStore } = await import("../store.js");

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

it("syncs the new file before its rename and the directory after it", async () => {
  dir = await mkdtemp(join(tmpdir(), "tf-store-sync-"));
  const store = await jsonFileStore(dir);
  calls.length = 0;
  await store.save({ nodes: { a: { sources: [], configVersion: 1 } } });
  await store.close();
  const file = join(dir, "twins.json");
  expect(calls).toHaveLength(3);
  expect(calls[0]).toMatch(new RegExp(`^sync ${file}\\.\\d+\\.0\\.tmp$`));
  expect(calls.slice(1)).toEqual([`rename ${file}`, `sync ${dir}`]);
});

it("syncs the lock and the directory once the presence is named in it, so a power cut keeps it", async () => {
  dir = await mkdtemp(join(tmpdir(), "tf-store-sync-"));
  const store = await jsonFileStore(dir);
  calls.length = 0;
  await store.holdAs?.("tf-twins-0a1b2c3d", 1764633600000);
  await store.close();
  expect(calls).toEqual([`sync ${join(dir, "twins.lock")}`, `sync ${dir}`]);
});
