/**
 * A data directory that cannot be written (a full disk): the broker keeps serving. Clients with a
 * will connect and reconnect, retained messages are answered from memory, and the log says so once
 * (not once per write), then once more when writes succeed again. Before, a reconnecting client's
 * failed delWill ended the process (aedes's storeWill leaves it unhandled) and a failed putWill cut
 * every client with a will.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClassicLevel } from "classic-level";
import pino from "pino";
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { type RunningBroker, startBroker } from "../server.js";
import { STORE_FAILURE_LOG_MS, StoreWriteWatch } from "../store-writes.js";
import { client, closeAll, nextMessage, runningBrokerCommand } from "./helpers.js";

let dir: string;
let broker: RunningBroker | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "twinfleet-broker-full-"));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await broker?.close();
  broker = undefined;
  await rm(dir, { recursive: true, force: true });
});

interface Line {
  level: number;
  msg: string;
}

function diskFull(): void {
  const full = () => Promise.reject(new Error(`IO error: ${dir}/000003.log: No space left on device`));
  vi.spyOn(ClassicLevel.prototype, "put").mockImplementation(full);
  vi.spyOn(ClassicLevel.prototype, "del").mockImplementation(full);
  vi.spyOn(ClassicLevel.prototype, "batch").mockImplementation(full as never);
}

const will = (id: string) => ({
  topic: `tf/status/${id}`,
  payload: Buffer.from("0"),
  qos: 0 as const,
  retain: true,
});

it("keeps serving clients with wills and retained messages when the data directory cannot be written", async () => {
  const lines: Line[] = [];
  const logger = pino({ level: "info" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  broker = await startBroker({ host: "127.0.0.1", port: 0, dataDir: dir, logger });
  // Stored while the disk had room: reconnecting deletes it first (delWill).
  const first = await client(broker.url, { clientId: "tf-n-1", will: will("n-1") });
  await closeAll(first);

  diskFull();
  const again = await client(broker.url, { clientId: "tf-n-1", will: will("n-1") });
  const fresh = await client(broker.url, { clientId: "tf-n-2", will: will("n-2") });
  await again.publishAsync("tf/report/n-1", "R1 1 5 n-1", { qos: 1, retain: true });

  const reader = await client(broker.url, { clientId: "reader" });
  const retained = nextMessage(reader, "tf/report/n-1");
  await reader.subscribeAsync("tf/report/n-1");
  expect(await retained).toBe("R1 1 5 n-1");
  expect(again.connected && fresh.connected).toBe(true);

  const errors = lines.filter((l) => l.level >= 50);
  expect(errors).toHaveLength(1);
  expect(errors[0]?.msg).toContain(`data directory ${dir} cannot be written (IO error:`);
  expect(errors[0]?.msg).toContain("free space");
  await closeAll(again, fresh, reader);
});

it("logs a failing store once a minute at most, and when it writes again", () => {
  const lines: Line[] = [];
  const logger = pino({ level: "info" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  let now = 0;
  const watch = new StoreWriteWatch("data directory d", logger, () => now);
  for (let i = 0; i < 1000; i++) watch.failed("putWill", new Error("No space left on device"));
  now = STORE_FAILURE_LOG_MS;
  watch.failed("putWill", new Error("No space left on device"));
  watch.succeeded();
  watch.succeeded();
  expect(lines.map((l) => l.msg)).toEqual([
    expect.stringContaining("data directory d cannot be written (No space left on device)"),
    "data directory d still cannot be written; wills and retained messages are kept in memory only (lost if it stops)",
    "data directory d is written again",
  ]);
});

it("tells a read-only file system (remounted after an I/O error) from a full one: freeing space does nothing there", () => {
  const lines: Line[] = [];
  const logger = pino({ level: "info" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  const watch = new StoreWriteWatch("data directory d", logger, () => 0);
  watch.failed("storeRetained", new Error("IO error: d/000003.log: Read-only file system"));
  expect(lines.map((l) => l.msg)).toEqual([
    expect.stringMatching(/Read-only file system\).*: its file system is read-only .*: check the disk/),
  ]);
  expect(lines[0]?.msg).not.toContain("free space");
});

it("keeps its once a minute on the monotonic clock, not the host's date, which NTP or an operator may step", () => {
  const lines: Line[] = [];
  const logger = pino({ level: "info" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  const hostNow = Date.now;
  let step = 0;
  const host = vi.spyOn(Date, "now").mockImplementation(() => hostNow() + step);
  try {
    const watch = new StoreWriteWatch("data directory d", logger);
    watch.failed("putWill", new Error("No space left on device"));
    step = 2 * 3_600_000; // NTP sets the host's clock two hours forward
    watch.failed("putWill", new Error("No space left on device"));
  } finally {
    host.mockRestore();
  }
  expect(lines.map((l) => l.msg)).toEqual([expect.stringContaining("data directory d cannot be written")]);
});

it("drops what an offline session's queue cannot store, not the publisher: clean QoS 1 publishers keep their connection", async () => {
  const lines: Line[] = [];
  const logger = pino({ level: "info" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  broker = await startBroker({ host: "127.0.0.1", port: 0, dataDir: dir, logger });
  // A tool's persistent session on the fleet's topics, left while the disk had room.
  const tool = await client(broker.url, { clientId: "tool", clean: false });
  await tool.subscribeAsync("tf/#", { qos: 1 });
  await closeAll(tool);

  diskFull();
  const online = await client(broker.url, { clientId: "reader" });
  await online.subscribeAsync("tf/report/+", { qos: 1 });
  const node = await client(broker.url, { clientId: "tf-n-3" });
  const got = nextMessage(online, "tf/report/n-3");
  await node.publishAsync("tf/report/n-3", "R1 1 6 n-3", { qos: 1 });
  expect(await got).toBe("R1 1 6 n-3");
  await node.publishAsync("tf/report/n-3", "R1 0 7 n-3", { qos: 1 });
  expect(node.connected).toBe(true);
  expect(lines.some((l) => l.level >= 50 && l.msg.includes("cannot be written"))).toBe(true);
  await closeAll(node, online);
});

it("stops with an error, not a clean exit, when its data directory still cannot be written: what it stored since is lost", async () => {
  const run = async (full: boolean) => {
    const { url, stop, done } = await runningBrokerCommand({ host: "127.0.0.1", port: "0", data: dir });
    const c = await client(url);
    if (full) diskFull();
    await c.publishAsync("tf/report/n-1", "R1 1 5 n-1", { qos: 1, retain: true });
    await closeAll(c);
    stop();
    return done;
  };
  // Written: a clean stop.
  await expect(run(false)).resolves.toBeUndefined();
  await expect(run(true)).rejects.toThrow(
    new Error(
      `data directory ${dir} cannot be written (IO error: ${dir}/000003.log: No space left on device) as the broker ` +
        "stopped: what it stored since writes began to fail (retained messages, wills, sessions) is not in it; " +
        "the next start has what it held before",
    ),
  );
});

it("a start the disk cannot take (full, or read-only) names the directory, the cause and what to do", async () => {
  // Every open refused while the start is tried (LevelDB's deferred open included): a real open
  // left running would write into the directory as the test removes it.
  const refuse = (cause: string) =>
    vi
      .spyOn(ClassicLevel.prototype, "open")
      .mockRejectedValue(Object.assign(new Error("Database is not open"), { cause: new Error(cause) }));
  const full = refuse(`IO error: ${dir}/MANIFEST-000004: No space left on device`);
  await expect(startBroker({ host: "127.0.0.1", port: 0, dataDir: dir })).rejects.toThrow(
    new Error(
      `data directory ${dir} cannot be opened as a LevelDB store: IO error: ${dir}/MANIFEST-000004: No space left on device; free space on it`,
    ),
  );
  full.mockRestore();
  refuse(`IO error: ${dir}/LOCK: Read-only file system`);
  await expect(startBroker({ host: "127.0.0.1", port: 0, dataDir: dir })).rejects.toThrow(
    /LOCK: Read-only file system; its file system is read-only \(remounted so after an I\/O error\?\): check the disk/,
  );
});
