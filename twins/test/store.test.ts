/**
 * The twins service's stores (twins/store.ts): in memory and in a JSON file, and the errors named
 * when a data directory cannot be made or read, or holds another format.
 */
import { spawn } from "node:child_process";
import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { processIdentity } from "../../node/process-alive.js";
import { NodeId } from "../../protocol/index.js";
import { BoundedSeries } from "../series.js";
import { startTwins } from "../service.js";
import { jsonFileStore, LOCK_FILE, memoryStore, STORE_FILE, type StoredState } from "../store.js";

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "twins-store-"));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const state: StoredState = {
  nodes: {
    A: { sources: [NodeId("B")], configVersion: 2, pendingSet: { on: true, counter: 7 }, kind: "real" },
  },
};

describe("twins stores", () => {
  it("memory store returns copies of what it was given", async () => {
    const s = memoryStore();
    expect(await s.load()).toEqual({ nodes: {} });
    await s.save(state);
    expect(await s.load()).toEqual(state);
    expect(await s.load()).not.toBe(await s.load());
  });

  it("JSON file store survives a reopen and leaves no temporary files", async () => {
    const dir = join(await tempDir(), "nested");
    const s = jsonFileStore(dir);
    expect(await (await s).load()).toEqual({ nodes: {} });
    await (await s).save(state);
    await (await s).save(state);
    const again = await jsonFileStore(dir);
    expect(await again.load()).toEqual(state);
    await again.close();
    expect(await readdir(dir)).toEqual([STORE_FILE]);
  });

  it("a data directory that cannot be made is an error naming it, at once (even under /proc)", async () => {
    const file = join(await tempDir(), "file");
    await writeFile(file, "x");
    await expect(jsonFileStore(join(file, "twins"))).rejects.toThrow(
      `data directory ${join(file, "twins")} cannot be created: ENOTDIR (a part of the path is a file)`,
    );
    await expect(jsonFileStore(file)).rejects.toThrow(
      `data directory ${file} cannot be created: EEXIST (a file is there, not a directory)`,
    );
    await expect(jsonFileStore("/proc/twinfleet-no-such/twins")).rejects.toThrow(
      "data directory /proc/twinfleet-no-such/twins cannot be created: ENOENT",
    );
  });

  it("a service whose store cannot be read lets go of the directory", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, STORE_FILE), "{ not json");
    // The store is read before the broker is reached: no broker is needed to fail here.
    await expect(startTwins({ url: "mqtt://127.0.0.1:1", store: await jsonFileStore(dir) })).rejects.toThrow(
      /twins\.json is not JSON/,
    );
    expect(await readdir(dir)).toEqual([STORE_FILE]);
  });

  it("a file in a newer format is refused, naming the file and both formats, and left as it is", async () => {
    const dir = await tempDir();
    const text = JSON.stringify({
      format: 4,
      nodes: { "n-1": { sources: [], configVersion: 0, added: {} } },
    });
    await writeFile(join(dir, STORE_FILE), text);
    const store = await jsonFileStore(dir);
    await expect(store.load()).rejects.toThrow(
      `twins store ${join(dir, STORE_FILE)} is in format 4, written by a newer twinfleet; this one reads formats up to 3: run a twinfleet that reads it (the file is left as it is; moving it away loses pending sets and pairings of offline nodes)`,
    );
    await store.close();
    expect(await readFile(join(dir, STORE_FILE), "utf8")).toBe(text);
  });

  it("writes format 2 only while it holds configs written for nodes away, and reads both", async () => {
    const dir = await tempDir();
    const store = await jsonFileStore(dir);
    const plain = { sources: [NodeId("n-0002")], configVersion: 1 };
    await store.save({ nodes: { "n-0001": plain } });
    expect(JSON.parse(await readFile(join(dir, STORE_FILE), "utf8")).format).toBe(1);
    const write = { version: 2, sources: [NodeId("n-0002"), NodeId("n-0003")], before: [NodeId("n-0002")] };
    const away = { ...plain, configVersion: 2, pending: true, offlineWrites: [write] };
    await store.save({ nodes: { "n-0001": away } });
    expect(JSON.parse(await readFile(join(dir, STORE_FILE), "utf8")).format).toBe(2);
    expect(await store.load()).toEqual({ nodes: { "n-0001": away } });
    // A write naming the node itself is refused as a desire would be: merged, it would be sent.
    const self = { ...away, offlineWrites: [{ ...write, sources: [NodeId("n-0001")] }] };
    await store.save({ nodes: { "n-0001": self } });
    await expect(store.load()).rejects.toThrow(
      /a node cannot follow itself\n {2}→ at nodes\["n-0001"\]\.offlineWrites\[0\]\.sources/,
    );
    await store.close();
  });

  it("a corrupt or foreign file is an error naming the file, not an empty fleet", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, STORE_FILE), "{ not json");
    await expect((await jsonFileStore(dir)).load()).rejects.toThrow(
      /twins\.json is not JSON, truncated or corrupt \(.*\); restore it from a backup, or move it away/,
    );
    await writeFile(join(dir, STORE_FILE), "");
    await expect((await jsonFileStore(dir)).load()).rejects.toThrow(/twins\.json is empty .*; restore it/);
    await writeFile(join(dir, STORE_FILE), JSON.stringify({ format: "1", nodes: {} }));
    await expect((await jsonFileStore(dir)).load()).rejects.toThrow(
      /twins\.json is not a valid twins file: .*format.*; restore it/s,
    );
    await writeFile(
      join(dir, STORE_FILE),
      JSON.stringify({ format: 1, nodes: { "bad id": { sources: [] } } }),
    );
    await expect((await jsonFileStore(dir)).load()).rejects.toThrow(/configVersion/);
    expect(await readFile(join(dir, STORE_FILE), "utf8")).toContain("bad id");
    // Desires the protocol forbids would be sent to the node: refused, naming the node.
    await writeFile(
      join(dir, STORE_FILE),
      JSON.stringify({
        format: 1,
        nodes: { "n-0003": { sources: ["n-0003", "n-0001", "n-0001"], configVersion: 50 } },
      }),
    );
    const refused = (await jsonFileStore(dir)).load();
    await expect(refused).rejects.toThrow(/a node cannot follow itself\n {2}→ at nodes\["n-0003"\]\.sources/);
    await expect(refused).rejects.toThrow(/names n-0001 twice/);
    await rm(join(dir, STORE_FILE));
    await mkdir(join(dir, STORE_FILE));
    await expect((await jsonFileStore(dir)).load()).rejects.toThrow(
      /twins store .*twins\.json cannot be read: it is a directory; move it away/,
    );
  });
});

describe("twins store on a bad day", () => {
  it("removes a temporary file a crashed writer left, and keeps a live writer's", async () => {
    const dir = await tempDir();
    const dead = join(dir, `${STORE_FILE}.2147483647.3.tmp`); // no such process
    const live = join(dir, `${STORE_FILE}.${process.ppid}.0.tmp`);
    await writeFile(dead, '{"format":1,"no');
    await writeFile(live, "");
    await (await jsonFileStore(dir)).close();
    expect((await readdir(dir)).sort()).toEqual([`${STORE_FILE}.${process.ppid}.0.tmp`]);
  });

  it("a save that cannot be written (a full disk) leaves no temporary file and the old file intact", async () => {
    const dir = await tempDir();
    const s = await jsonFileStore(dir);
    await s.save(state);
    // JSON.stringify throws from inside the write, as ENOSPC does from writeFile.
    const cyclic = { nodes: {} } as { nodes: Record<string, unknown> };
    cyclic.nodes.A = cyclic;
    await expect(s.save(cyclic as unknown as StoredState)).rejects.toThrow(/circular/);
    await expect(s.save(cyclic as unknown as StoredState)).rejects.toThrow(/circular/);
    expect(await readdir(dir)).toEqual([STORE_FILE, LOCK_FILE]);
    expect(await s.load()).toEqual(state);
  });

  it("refuses a directory another live twins service holds, and takes over one a crashed one left", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, LOCK_FILE), `${process.ppid}\n`); // a live process
    await expect(jsonFileStore(dir)).rejects.toThrow(
      `data directory ${dir} is in use by another twins service (pid ${process.ppid}, ${join(dir, LOCK_FILE)})`,
    );
    // The live one recorded who it is: refused while that process lives.
    await writeFile(join(dir, LOCK_FILE), `${process.ppid} ${processIdentity(process.ppid)}\n`);
    await expect(jsonFileStore(dir)).rejects.toThrow("is in use by another twins service");
    await writeFile(join(dir, LOCK_FILE), "2147483647\n"); // no such process: killed -9
    const s = await jsonFileStore(dir);
    expect(await readFile(join(dir, LOCK_FILE), "utf8")).toBe(
      `${process.pid} ${processIdentity(process.pid)}\ndirectory ${(await stat(dir, { bigint: true })).ino} ${dir}\n`,
    );
    await s.close();
    expect(await readdir(dir)).toEqual([]);
  });

  it("tells the next store the presence a service that died (kill -9) held, and nothing after a clean stop", async () => {
    const dir = await tempDir();
    const first = await jsonFileStore(dir);
    expect(first.previous).toBeUndefined();
    await first.holdAs?.("tf-twins-0a1b2c3d", 1764633600000);
    // The pid and identity stay the lock's first line, as every build reads it.
    expect((await readFile(join(dir, LOCK_FILE), "utf8")).split("\n")[0]).toBe(
      `${process.pid} ${processIdentity(process.pid)}`,
    );
    // Not closed: killed. A lock of this process is taken over, as one of a process gone.
    const second = await jsonFileStore(dir);
    expect(second.previous).toEqual({
      pid: process.pid,
      clientId: "tf-twins-0a1b2c3d",
      since: 1764633600000,
    });
    await second.close();
    // A clean stop removes the lock, and with it the presence it named (cleared by the goodbye).
    expect((await jsonFileStore(dir)).previous).toBeUndefined();
    // A lock from a build that records no presence, or a garbled line: nothing is taken for one.
    await writeFile(join(dir, LOCK_FILE), "2147483647 x/1\npresence tf/x 12\n");
    expect((await jsonFileStore(dir)).previous).toBeUndefined();
  });

  it("takes over the lock of a copy (cp -a of a running service's directory) and leaves its presence alone", async () => {
    const parent = await tempDir();
    const live = join(parent, "twins");
    const copy = join(parent, "twins-copy");
    // A service that runs on `live`: another live process holds its lock, its presence recorded.
    const first = await jsonFileStore(live);
    await first.save(state);
    await first.holdAs?.("tf-twins-0a1b2c3d", 1764633600000);
    const held = (await readFile(join(live, LOCK_FILE), "utf8")).replace(
      /^\d+ \S*/,
      `${process.ppid} ${processIdentity(process.ppid)}`,
    );
    await writeFile(join(live, LOCK_FILE), held);
    await expect(jsonFileStore(live)).rejects.toThrow("is in use by another twins service");
    // The backup: a copy of the directory as it is, lock and all.
    await cp(live, copy, { recursive: true, preserveTimestamps: true });
    const lines: string[] = [];
    const logger = { info: (_o: unknown, line: string) => lines.push(line) } as unknown as Logger;
    const restored = await jsonFileStore(copy, logger);
    expect(await restored.load()).toEqual(state);
    // Its writer ran on the other directory: not this directory's predecessor, its presence not cleared.
    expect(restored.previous).toBeUndefined();
    expect(lines).toEqual([
      `twins: ${join(copy, LOCK_FILE)} was copied with the directory (a backup restored, a directory copied or moved to another machine): ` +
        `it was written by pid ${process.ppid} in ${live}, not here, so it holds nothing here and is taken over; ` +
        "the presence it names is that directory's service's, left alone",
    ]);
    // The copy's own lock now names the copy.
    expect((await readFile(join(copy, LOCK_FILE), "utf8")).split("\n")[1]).toMatch(
      new RegExp(`^directory \\d+ ${copy.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`),
    );
    await restored.close();
    // Moved, not copied (mv within a file system keeps the inode): still the same directory.
    await rm(join(live, LOCK_FILE));
    const again = await jsonFileStore(live);
    await again.holdAs?.("tf-twins-0a1b2c3d", 1764633600000);
    const moved = join(parent, "twins-moved");
    await rename(live, moved);
    expect((await jsonFileStore(moved)).previous?.clientId).toBe("tf-twins-0a1b2c3d");
  });

  it("takes over a lock whose pid another process has since (a reboot, pids wrapped)", async () => {
    const dir = await tempDir();
    const identity = processIdentity(process.ppid);
    expect(identity).toMatch(/^[0-9a-f-]{36}\/\d+$/); // Linux's /proc tells
    // The parent's pid, with another process's start time: the service that wrote it is gone.
    const [boot, start] = (identity as string).split("/");
    await writeFile(join(dir, LOCK_FILE), `${process.ppid} ${boot}/${Number(start) + 1}\n`);
    const s = await jsonFileStore(dir);
    await s.close();
    // Written on another boot: gone too, whatever holds the pid now.
    await writeFile(join(dir, LOCK_FILE), `${process.ppid} 00000000-0000-0000-0000-000000000000/${start}\n`);
    await (await jsonFileStore(dir)).close();
  });

  it("takes over a pid-only lock (a build before 4 December) whose pid a later program holds, not a Node.js one's", async () => {
    const dir = await tempDir();
    const lock = join(dir, LOCK_FILE);
    // An older build's lock left by a crash, the host rebooted since: its pid is another program's.
    const other = spawn("sleep", ["60"], { stdio: "ignore" });
    try {
      await new Promise((resolve) => other.once("spawn", resolve));
      await writeFile(lock, `${other.pid}\n`);
      const before = new Date((await stat(lock)).mtimeMs - 3_600_000); // before the program started
      await utimes(lock, before, before);
      const s = await jsonFileStore(dir);
      await s.close();
      // Written after that program started: it may be the writer's (by its pid alone), so refused.
      await writeFile(lock, `${other.pid}\n`);
      await expect(jsonFileStore(dir)).rejects.toThrow("is in use by another twins service");
    } finally {
      other.kill("SIGKILL");
    }
    // A Node.js program, however old the lock: it may be the writer (by its pid alone), so refused.
    const node = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
    try {
      await new Promise((resolve) => node.once("spawn", resolve));
      await writeFile(lock, `${node.pid}\n`);
      const longAgo = new Date(Date.parse("2000-01-01T00:00:00Z"));
      await utimes(lock, longAgo, longAgo);
      await expect(jsonFileStore(dir)).rejects.toThrow("is in use by another twins service");
    } finally {
      node.kill("SIGKILL");
    }
  });
});

describe("BoundedSeries", () => {
  it("keeps the newest points, oldest first, and merges points at one instant", () => {
    const s = new BoundedSeries(3);
    for (const t of [1, 2, 2, 3, 4]) s.push({ t, fraction: t / 10, inSync: t, known: 4 });
    expect(s.toArray().map((p) => p.t)).toEqual([2, 3, 4]);
    expect(s.toArray()[0]?.fraction).toBe(0.2);
    expect(s.last()?.t).toBe(4);
  });
});
