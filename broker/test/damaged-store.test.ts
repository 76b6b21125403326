/**
 * A damaged data directory (a disk error, a hand edit, a half-copied backup): the start fails with
 * one line naming the directory, what LevelDB found and what to do. A damaged table file used to
 * surface as a bare "IO error: …/000005.ldb: Invalid argument" without the directory or advice.
 */
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { startBroker } from "../server.js";
import { client, closeAll } from "./helpers.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "twinfleet-broker-damaged-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** A store with retained messages in a table file: LevelDB writes one when it reopens its log. */
async function storeWithTable(): Promise<void> {
  const first = await startBroker({ host: "127.0.0.1", port: 0, dataDir: dir });
  const c = await client(first.url);
  for (let i = 0; i < 20; i++)
    await c.publishAsync(`tf/report/n-${i}`, `R1 1 ${i} n-${i}`, { qos: 1, retain: true });
  await closeAll(c);
  await first.close();
  await (await startBroker({ host: "127.0.0.1", port: 0, dataDir: dir })).close();
}

const garbage = Buffer.from(Array.from({ length: 2000 }, (_, i) => (i * 7919) % 256));

it("a damaged table file fails the start naming the directory and what to do", async () => {
  await storeWithTable();
  const tables = (await readdir(dir)).filter((f) => f.endsWith(".ldb"));
  expect(tables.length).toBeGreaterThan(0);
  for (const t of tables) await writeFile(join(dir, t), garbage);
  await expect(startBroker({ host: "127.0.0.1", port: 0, dataDir: dir })).rejects.toThrow(
    new RegExp(
      `^data directory ${dir} cannot be read as a LevelDB store: .*; restore it from a backup, or move it away`,
    ),
  );
  // The failed start released the directory: once moved away, a broker starts on a new one there.
  await rm(dir, { recursive: true });
  await (await startBroker({ host: "127.0.0.1", port: 0, dataDir: dir })).close();
});

it("a damaged CURRENT file fails the start naming the directory and what to do", async () => {
  await storeWithTable();
  await writeFile(join(dir, "CURRENT"), garbage);
  await expect(startBroker({ host: "127.0.0.1", port: 0, dataDir: dir })).rejects.toThrow(
    new RegExp(
      `^data directory ${dir} cannot be opened as a LevelDB store: Corruption: .*; restore it from a backup`,
    ),
  );
});
