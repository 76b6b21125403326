/**
 * A data directory on a disk that fills up or is remounted read-only: the store's start and stop name
 * the directory and the cause in one line, and a save that fails names both for `/healthz`, as the
 * failures of the file system are injected here.
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, expect, it, vi } from "vitest";
import { FakeScheduler, hostTurn } from "../../node/scheduler.js";
import { NodeId } from "../../protocol/index.js";
import type { DesiredRecord } from "../store.js";

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
    // A file opened for writing whose bytes find no room (a save's temporary file, a journal append).
    open: async (...args: Parameters<typeof fs.open>) => {
      const fh = await fs.open(...args);
      const e = fails("write", args[0]);
      if (e === undefined) return fh;
      const refuse = async () => {
        throw e;
      };
      return new Proxy(fh, {
        get: (target, key) => {
          if (key === "writeFile" || key === "appendFile") return refuse;
          const v: unknown = Reflect.get(target, key);
          return typeof v === "function" ? v.bind(target) : v;
        },
      });
    },
    rm: async (...args: Parameters<typeof fs.rm>) => {
      const e = fails("rm", args[0]);
      if (e !== undefined) throw e;
      return fs.rm(...args);
    },
  };
});

const { jsonFileStore, LOCK_FILE, STORE_FILE } = await import("../store.js");
const { DesireSaver, SAVE_RETRY_MS } = await import("../desire-saver.js");

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

it("names the data directory and the error of a save that fails, for /healthz, until a save succeeds", async () => {
  dir = await mkdtemp(join(tmpdir(), "tf-store-disk-"));
  const store = await jsonFileStore(dir);
  await store.load("tf");
  const sched = new FakeScheduler(1000);
  const nodes: Record<string, DesiredRecord> = { "n-1": { sources: [NodeId("n-2")], configVersion: 2 } };
  const state = { whole: () => ({ nodes }), records: () => new Map(Object.entries(nodes)) };
  const saver = new DesireSaver(store, state, pino({ level: "silent" }), {
    scheduler: sched,
    gapMs: () => 0,
  });
  const settle = async () => {
    for (let i = 0; i < 5; i++) await hostTurn();
    await saver.flush();
  };
  failing.set("write", { suffix: "", code: "ENOSPC" }); // every file's bytes: a full disk
  saver.save("n-1");
  await settle();
  expect(saver.unsavedSince).toBe(1000);
  expect(saver.unsavedCause).toMatch(
    new RegExp(
      `^data directory ${dir} cannot be written \\(ENOSPC: injected, write '${dir}/twins\\.json\\.\\d+\\.\\d+\\.tmp'\\), tried again every 5 s$`,
    ),
  );
  expect(await readdir(dir)).toEqual([LOCK_FILE]); // no temporary file left
  // Room again: the retry saves it, and the store is healthy.
  failing.clear();
  sched.advance(SAVE_RETRY_MS);
  await settle();
  expect(saver.unsavedCause).toBeUndefined();
  expect(saver.unsavedSince).toBeUndefined();
  expect(JSON.parse(await readFile(join(dir, STORE_FILE), "utf8")).nodes).toEqual(nodes);
  saver.kill();
  await store.close();
});
