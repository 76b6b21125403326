/**
 * A damaged data directory (a disk error, a hand edit, a half-copied backup): the start fails with
 * one line naming the directory, what LevelDB found and what to do. A damaged table file used to
 * surface as a bare "IO error: …/000005.ldb: Invalid argument" without the directory or advice.
 */
import { mkdtemp, open, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, beforeEach, expect, it } from "vitest";
import { logRecords, manifestLogs } from "../level-manifest.js";
import { recoveryLossIn } from "../level-recovery.js";
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

it("a copy missing a table file its manifest names (taken while the broker ran) says so", async () => {
  await storeWithTable();
  const tables = (await readdir(dir)).filter((f) => f.endsWith(".ldb"));
  expect(tables.length).toBeGreaterThan(0);
  // What a copy holds when a compaction removed a table between the copy's listing and its read.
  await rm(join(dir, tables[0] ?? ""));
  const failed = startBroker({ host: "127.0.0.1", port: 0, dataDir: dir });
  await expect(failed).rejects.toThrow(
    new RegExp(
      `^data directory ${dir} cannot be opened as a LevelDB store: Corruption: 1 missing files; e\\.g\\.: .*\\.ldb; ` +
        "table files its MANIFEST names are not there: a copy of a data directory taken while its broker ran " +
        "\\(LevelDB replaced them during the copy\\), or files removed from it\\. Take the copy again with the broker stopped",
    ),
  );
});

it("a log damaged in the middle is opened, and the bytes LevelDB dropped are told", async () => {
  const first = await startBroker({ host: "127.0.0.1", port: 0, dataDir: dir });
  const c = await client(first.url);
  // 200 retained reports of 300 bytes: about 60 KB of log, no table file yet.
  for (let i = 0; i < 200; i++)
    await c.publishAsync(`tf/report/n-${i}`, `R1 1 ${i} n-${i} ${"x".repeat(280)}`, { qos: 1, retain: true });
  await closeAll(c);
  await first.close();
  const logs = (await readdir(dir)).filter((f) => f.endsWith(".log"));
  expect(logs).toHaveLength(1);
  const log = join(dir, logs[0] ?? "");
  expect((await stat(log)).size).toBeGreaterThan(40_000);
  // A block of garbage in the middle, as a bad sector or a reordered write leaves it.
  const fh = await open(log, "r+");
  await fh.write(garbage.subarray(0, 500), 0, 500, 20_000);
  await fh.close();

  const lines: { level: number; msg: string; droppedBytes?: number }[] = [];
  const logger = pino({ level: "info" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  const second = await startBroker({ host: "127.0.0.1", port: 0, dataDir: dir, logger });
  const warned = lines.filter((l) => l.level === 40);
  expect(warned).toHaveLength(1);
  expect(warned[0]?.msg).toMatch(
    new RegExp(
      `^data directory ${dir}: LevelDB found its log damaged and dropped [0-9,]+ bytes of it while opening \\(Corruption: checksum mismatch.*\\): retained messages, sessions or wills written before the broker stopped are lost`,
    ),
  );
  expect(warned[0]?.droppedBytes).toBeGreaterThanOrEqual(500);
  // What came before the damage is kept.
  const reader = await client(second.url);
  const got: string[] = [];
  reader.on("message", (topic) => got.push(topic));
  await reader.subscribeAsync("tf/report/n-0", { qos: 1 });
  await expect.poll(() => got).toEqual(["tf/report/n-0"]);
  await closeAll(reader);
  await second.close();
  // Opened again without new damage: no warning (LevelDB's LOG is per open).
  lines.length = 0;
  await (await startBroker({ host: "127.0.0.1", port: 0, dataDir: dir, logger })).close();
  expect(lines.filter((l) => l.level === 40)).toEqual([]);
});

it("a copy without the log its manifest names (taken while the broker ran) opens with a warning, once", async () => {
  // Retained messages in a table, then more in the log only: what a copy loses with the log.
  await storeWithTable();
  const b = await startBroker({ host: "127.0.0.1", port: 0, dataDir: dir });
  const c = await client(b.url);
  await c.publishAsync("tf/report/late", "R1 1 99 late", { qos: 1, retain: true });
  await closeAll(c);
  await b.close();
  const lines: { level: number; msg: string; log?: number }[] = [];
  const logger = pino({ level: "info" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  // Whole, it opens without a word.
  await (await startBroker({ host: "127.0.0.1", port: 0, dataDir: dir, logger })).close();
  expect(lines.filter((l) => l.level === 40)).toEqual([]);
  // As a copy made while the broker ran may hold it: the log LevelDB replaced during the copy is gone.
  const logs = (await readdir(dir)).filter((f) => f.endsWith(".log"));
  expect(logs).toHaveLength(1);
  await rm(join(dir, logs[0] ?? ""));
  const opened = await startBroker({ host: "127.0.0.1", port: 0, dataDir: dir, logger });
  const warned = lines.filter((l) => l.level === 40);
  expect(warned).toHaveLength(1);
  expect(warned[0]?.msg).toBe(
    `data directory ${dir}: its manifest names the log ${logs[0]}, which is not there: what was written since ` +
      "LevelDB's last table is gone (retained messages, sessions, wills), and the store opens older than it was. " +
      "A copy taken while its broker ran loses it so (LevelDB replaced the log during the copy): take the copy " +
      'again with the broker stopped, or as docs/broker.md "Backing up the data directory" says. ' +
      "Each node puts back its retained report and config when it next connects",
  );
  await opened.close();
  // The store as it opened is whole again: no second warning.
  lines.length = 0;
  await (await startBroker({ host: "127.0.0.1", port: 0, dataDir: dir, logger })).close();
  expect(lines.filter((l) => l.level === 40)).toEqual([]);
});

it("a manifest's log numbers are read from its records, across blocks, and a cut-off record is left out", () => {
  // A version edit setting the log number (tag 2) to 300 (varint ac 02), then next file (3) 301.
  const edit = Buffer.from([2, 0xac, 0x02, 3, 0xad, 0x02]);
  const record = (type: number, data: Buffer) => {
    const h = Buffer.alloc(7);
    h.writeUInt16LE(data.length, 4);
    h[6] = type;
    return Buffer.concat([h, data]);
  };
  expect(manifestLogs(record(1, edit))).toEqual({ log: 300, prevLog: 0 });
  // Split over a FIRST and a LAST record; a later edit cut off at the file's end is not read.
  const split = Buffer.concat([record(2, edit.subarray(0, 2)), record(4, edit.subarray(2))]);
  const cut = record(1, Buffer.from([2, 0x05])).subarray(0, 8);
  expect(manifestLogs(Buffer.concat([split, cut]))).toEqual({ log: 300, prevLog: 0 });
  // A block ends in a trailer too short for a header (3 bytes here), or in zeros: the next record
  // starts in the next block.
  const filler = record(1, Buffer.alloc(32_768 - 7 - 3));
  expect(logRecords(Buffer.concat([filler, Buffer.alloc(3), record(1, edit)]))).toHaveLength(2);
  expect(logRecords(Buffer.concat([Buffer.alloc(32_768), record(1, edit)]))).toHaveLength(1);
  // A tag this reader does not know: left to LevelDB (undefined), not guessed.
  expect(manifestLogs(record(1, Buffer.from([42, 1])))).toBeUndefined();
});

it("LevelDB's own account of dropped bytes is summed, each reason once", () => {
  const log = [
    "2026/12/04-05:25:49.597886 7f47737fe6c0 Recovering log #3",
    "2026/12/04-05:25:49.598275 7f47737fe6c0 (ignoring error) d/000003.log: dropping 2901 bytes; Corruption: checksum mismatch",
    "2026/12/04-05:25:49.598286 7f47737fe6c0 (ignoring error) d/000003.log: dropping 68 bytes; Corruption: missing start of fragmented record(2)",
    "2026/12/04-05:25:49.598290 7f47737fe6c0 (ignoring error) d/000003.log: dropping 31 bytes; Corruption: checksum mismatch",
    "2026/12/04-05:25:49.598708 7f47737fe6c0 Level-0 table #5: started",
  ].join("\n");
  expect(recoveryLossIn(log)).toEqual({
    bytes: 3000,
    reasons: ["Corruption: checksum mismatch", "Corruption: missing start of fragmented record(2)"],
  });
  expect(recoveryLossIn("2026/12/04 Recovering log #3\nLevel-0 table #5: 8267 bytes OK")).toBeUndefined();
});
