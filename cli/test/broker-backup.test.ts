/**
 * `twinfleet broker backup` against a real broker on port 0 with a LevelDB store and its --http: the
 * backup is a store a new broker opens as it is, with the retained messages and the persistent
 * session; the snapshot is the store of one moment, whatever is written while it is read; a target
 * that holds anything is refused before the broker is asked; a full disk or a stream cut short
 * leaves nothing at the target and no partial directory, and one a killed backup left is removed by
 * the next; a broker in memory says why it has none.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClassicLevel } from "classic-level";
import { afterEach, beforeEach, expect, it } from "vitest";
import { BackupReader, backupStream, type RunningBroker, startBroker } from "../../broker/index.js";
import { client, closeAll, retainedOf } from "../../broker/test/helpers.js";
import { type BrokerHttpServer, startBrokerHttp } from "../../web/broker-server.js";
import { runBrokerBackup } from "../commands/broker-backup-run.js";
import { writeBackup } from "../store-backup-write.js";
import { runMain } from "./run-main.js";

const TOKEN = "broker-backup-token-0123456789";
let dir: string;
let brokers: RunningBroker[] = [];
let http: BrokerHttpServer | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "twinfleet-backup-"));
});
afterEach(async () => {
  await http?.close();
  http = undefined;
  for (const b of brokers) await b.close();
  brokers = [];
  await rm(dir, { recursive: true, force: true });
});

async function broker(dataDir?: string): Promise<RunningBroker> {
  const b = await startBroker({ host: "127.0.0.1", port: 0, ...(dataDir ? { dataDir } : {}) });
  brokers.push(b);
  return b;
}

async function serve(b: RunningBroker): Promise<string> {
  http = await startBrokerHttp({ figures: b.figures, host: "127.0.0.1", port: 0, token: TOKEN });
  return http.origin;
}

/** A broker on `data` holding 40 retained topics and one persistent session; its --http origin. */
async function filled(data: string): Promise<{ b: RunningBroker; origin: string }> {
  const b = await broker(data);
  const c = await client(b.url);
  for (let i = 0; i < 40; i++)
    await c.publishAsync(`fleet/n-${i}/config`, `{"v":${i}}`, { retain: true, qos: 1 });
  const keeper = await client(b.url, { clientId: "keeper", clean: false });
  await keeper.subscribeAsync("fleet/+/state", { qos: 1 });
  await closeAll(c, keeper);
  return { b, origin: await serve(b) };
}

it("writes a store a new broker opens as it is, and says what it wrote", async () => {
  const { b, origin } = await filled(join(dir, "d"));
  const out = join(dir, "backups", "b1");
  const r = await runMain("broker", "backup", "--http", origin, "--out", out);
  expect(r.err).toContain(`written from ${origin}`);
  expect(r.code).toBe(0);
  const said = JSON.parse(r.out) as Record<string, unknown>;
  // As /metrics counts them (the broker's own $SYS start id aside).
  const held = b.figures.retained();
  expect(held).toBe(40);
  expect(said).toMatchObject({ backup: out, from: origin, retained: held, sessions: 1 });
  expect(said.keys).toBeGreaterThan(41);
  expect(readdirSync(join(dir, "backups"))).toEqual(["b1"]);
  await http?.close();
  http = undefined;
  await b.close();
  const copy = await broker(out);
  expect(copy.figures.retained()).toBe(held);
  expect(await copy.figures.persistentSessions()).toBe(1);
  const c = await client(copy.url);
  expect(await retainedOf(c, ["fleet/n-7/config"])).toEqual({ "fleet/n-7/config": '{"v":7}' });
  await closeAll(c);
}, 60_000);

it("reads one snapshot: what is written while the backup is read is not in it", async () => {
  const db = new ClassicLevel<string, Buffer>(join(dir, "s"), { valueEncoding: "buffer" });
  await db.open();
  await db.put("retained:a", Buffer.from("1"));
  const stream = backupStream(db as never);
  await db.put("retained:b", Buffer.from("2"));
  await db.put("retained:a", Buffer.from("changed"));
  const reader = new BackupReader();
  const items = [];
  for await (const chunk of stream) items.push(...reader.push(chunk));
  await db.close();
  expect(items).toEqual([
    { key: Buffer.from("retained:a"), value: Buffer.from("1") },
    { summary: { keys: 1, bytes: 11, retained: 1, sessions: 0 } },
  ]);
});

it("removes the partial copy a killed backup of the same target left, and names it", async () => {
  const { origin } = await filled(join(dir, "d"));
  const out = join(dir, "backups", "b1");
  // A backup killed with -9 (its process gone), and one still running (this test's parent).
  const dead = spawnSync(process.execPath, ["-e", ""]).pid;
  for (const pid of [dead, process.ppid]) {
    mkdirSync(join(dir, "backups", `.b1.partial-${pid}`), { recursive: true });
    writeFileSync(join(dir, "backups", `.b1.partial-${pid}`, "000003.log"), "x");
  }
  const r = await runMain("broker", "backup", "--http", origin, "--out", out);
  expect(r.code, r.err).toBe(0);
  expect(r.err).toContain(
    `twinfleet broker backup: removed .b1.partial-${dead} beside ${out}: the partial copy of an earlier backup of it that was killed (its process is gone)`,
  );
  expect(readdirSync(join(dir, "backups")).sort()).toEqual([`.b1.partial-${process.ppid}`, "b1"]);
}, 60_000);

it("refuses a target that holds anything, before asking the broker", async () => {
  const out = join(dir, "taken");
  mkdirSync(out);
  writeFileSync(join(out, "CURRENT"), "MANIFEST-000002\n");
  const r = await runMain("broker", "backup", "--http", "127.0.0.1:1", "--out", out);
  expect(r.code).toBe(2);
  expect(r.err).toContain(`--out: ${out} exists and is not empty (1 entry)`);
  expect(readdirSync(out)).toEqual(["CURRENT"]);
});

it("on a full disk leaves nothing at the target and no partial directory", async () => {
  const { origin } = await filled(join(dir, "d"));
  const out = join(dir, "full", "b");
  const errors: string[] = [];
  const full = async () => ({
    batch: () => Promise.reject(new Error("IO error: 000003.log: No space left on device")),
    close: async () => {},
  });
  const io = { stdout: () => {}, stderr: (s: string) => errors.push(s) };
  await expect(runBrokerBackup({ out }, { http: origin }, io, { open: full })).rejects.toThrow(
    /^the disk is full \(IO error: 000003\.log: No space left on device\): free space on it; nothing was written at .*\/full\/b \(the partial copy was removed\)$/,
  );
  expect(readdirSync(join(dir, "full"))).toEqual([]);
}, 60_000);

it("a stream cut short (the broker stopped) leaves nothing", async () => {
  const db = new ClassicLevel<string, Buffer>(join(dir, "s"), { valueEncoding: "buffer" });
  await db.open();
  for (let i = 0; i < 3000; i++) await db.put(`retained:t${i}`, Buffer.alloc(100, 1));
  const chunks: Buffer[] = [];
  for await (const chunk of backupStream(db as never)) chunks.push(chunk);
  await db.close();
  const whole = Buffer.concat(chunks);
  async function* cut() {
    yield whole.subarray(0, Math.floor(whole.length / 2));
  }
  const out = join(dir, "cut");
  await expect(writeBackup(cut(), out)).rejects.toThrow(
    /^the broker's answer stopped after \d+ keys \(\d+ bytes\), before its end: the broker stopped or the connection was cut; nothing was written at/,
  );
  expect(existsSync(out)).toBe(false);
  expect(readdirSync(dir).sort()).toEqual(["s"]);
}, 60_000);

it("a broker in memory has no store to back up, and says why", async () => {
  const origin = await serve(await broker());
  const out = join(dir, "b");
  const r = await runMain("broker", "backup", "--http", origin, "--out", out);
  expect(r.code).toBe(1);
  expect(r.err).toContain(
    "refused the backup (409): this broker keeps its store in memory (started without --data)",
  );
  expect(r.err).toContain(`nothing was written at ${out}`);
  expect(existsSync(out)).toBe(false);
});
