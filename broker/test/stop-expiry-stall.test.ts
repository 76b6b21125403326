/**
 * The broker stopping on a frozen data directory while session expiry saves its clients' last-seen
 * times (broker/session-expiry.ts finish(), before the store's close): those writes are the store's
 * like any other (broker/store-writes.ts), so the stop's WARN names them and waits for them, and its
 * end says they are stored. Before, they were not tracked and the wait was told only from the store's
 * close: a stop on a frozen disk hung on them with nothing said. LevelDB's put is held here as a
 * frozen file system holds its write(); the broker, its socket, its store are real, the clock a fake one.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { FakeScheduler, hostTurn } from "../../node/scheduler.js";
import type { IndexedLevelPersistence } from "../level-store.js";
import { type RunningBroker, startBroker } from "../server.js";
import { KILL_WHILE_STALLED } from "../store-close-wait.js";
import { freezeLevel, unfreezeLevel } from "./frozen-level.js";
import { client } from "./helpers.js";

const dirs: string[] = [];
let broker: RunningBroker | undefined;
afterEach(async () => {
  unfreezeLevel();
  await broker?.close();
  broker = undefined;
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

interface Line {
  level: number;
  msg: string;
}

describe("the broker stopping on a frozen disk while session expiry saves its clients' times", () => {
  it("names those writes, waits for them, says when they are stored, and the next start has them", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "stop-expiry-stall-"));
    dirs.push(dataDir);
    const lines: Line[] = [];
    const logger = pino({ level: "info" }, { write: (s: string) => lines.push(JSON.parse(s) as Line) });
    const sched = new FakeScheduler(0, Date.UTC(2026, 0, 1));
    const b = await startBroker({
      host: "127.0.0.1",
      port: 0,
      dataDir,
      sessionExpiryMs: 3_600_000,
      scheduler: sched,
      logger,
    });
    broker = b;
    const node = await client(b.url, { clientId: "n-1", clean: false });
    await node.subscribeAsync("tf/set/n-1", { qos: 1 });
    const frozen = freezeLevel("put");
    let closed = false;
    const closing = b.close().then(() => {
      closed = true;
    });
    // The client's leaving as the broker closes: its time last seen is saved, and held by the disk.
    await vi.waitFor(() => expect(frozen.held()).toBe(1), { timeout: 10_000 });
    for (let i = 0; i < 20; i++) await hostTurn();
    sched.advance(5_000);
    const waits = () => lines.filter((l) => l.level === 40 && l.msg.startsWith("stopping:"));
    expect(waits().map((l) => l.msg)).toEqual([
      `stopping: the broker waits for data directory ${dataDir} to finish the writes its disk has not ` +
        "answered (1 waiting, the oldest the time n-1 was last seen, for 5.0 s), and ends once they do: " +
        `free the disk (fsfreeze -u, the snapshot's end, the volume back). ${KILL_WHILE_STALLED}`,
    ]);
    expect(lines.filter((l) => l.level === 50).map((l) => l.msg)).toEqual([
      expect.stringMatching(
        /has finished no write for 5 s \(1 waiting, the oldest the time n-1 was last seen/,
      ),
    ]);
    sched.advance(15_000);
    expect(closed).toBe(false);
    frozen.thaw();
    await closing;
    await node.endAsync(true);
    // Its end is the stop's: nothing goes out any more.
    expect(waits().map((l) => l.msg)).toEqual([
      expect.stringContaining("the oldest the time n-1 was last seen"),
      `stopping: data directory ${dataDir} answered again after 20.0 s: the writes the stop waited for are stored; stopping`,
    ]);
    expect(lines.filter((l) => l.msg.includes("goes out now"))).toEqual([]);
    expect(lines.at(-1)?.msg).toBe("broker closed");
    // The next start has the time saved as the client left (the date at the stop's beginning).
    const later = new FakeScheduler(0, Date.UTC(2026, 0, 1, 0, 1));
    const silent = pino({ level: "silent" });
    const opts = { host: "127.0.0.1", port: 0, dataDir, sessionExpiryMs: 3_600_000, scheduler: later };
    broker = await startBroker({ ...opts, logger: silent });
    const store = (broker.aedes as unknown as { persistence: IndexedLevelPersistence }).persistence;
    expect([...(await store.loadSeen())]).toEqual([["n-1", Date.UTC(2026, 0, 1)]]);
  });
});
