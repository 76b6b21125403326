import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { NodeId } from "../../protocol/index.js";
import { BoundedSeries } from "../series.js";
import { jsonFileStore, memoryStore, STORE_FILE, type StoredState } from "../store.js";

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
    expect(await readdir(dir)).toEqual([STORE_FILE]);
  });

  it("a data directory that cannot be made is an error naming it, at once (even under /proc)", async () => {
    const file = join(await tempDir(), "file");
    await writeFile(file, "x");
    await expect(jsonFileStore(join(file, "twins"))).rejects.toThrow(
      `data directory ${join(file, "twins")} cannot be created: ENOTDIR`,
    );
    await expect(jsonFileStore("/proc/twinfleet-no-such/twins")).rejects.toThrow(
      "data directory /proc/twinfleet-no-such/twins cannot be created: ENOENT",
    );
  });

  it("a corrupt or foreign file is an error naming the file, not an empty fleet", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, STORE_FILE), "{ not json");
    await expect((await jsonFileStore(dir)).load()).rejects.toThrow(/twins\.json is not a valid twins file/);
    await writeFile(
      join(dir, STORE_FILE),
      JSON.stringify({ format: 1, nodes: { "bad id": { sources: [] } } }),
    );
    await expect((await jsonFileStore(dir)).load()).rejects.toThrow(/configVersion/);
    expect(await readFile(join(dir, STORE_FILE), "utf8")).toContain("bad id");
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
