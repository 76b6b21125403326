/**
 * A data directory whose writes neither finish nor fail (a frozen file system, a hung disk:
 * broker/store-stall.ts). LevelDB's put is held here as a frozen file system holds its write(); the
 * broker, its store and its clock's checks are real, the clock a fake one. Before the watch, the
 * broker said nothing and `/healthz` answered ok while no client could connect.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { FakeScheduler, hostTurn } from "../../node/scheduler.js";
import { stoppingAgainLine } from "../command.js";
import type { IndexedLevelPersistence } from "../level-store.js";
import { type RunningBroker, startBroker } from "../server.js";
import { KILL_WHILE_STALLED } from "../store-close-wait.js";
import { StoreStallWatch } from "../store-stall.js";
import { storeWriteName } from "../store-write-names.js";
import { StoreWriteWatch } from "../store-writes.js";
import { freezeLevel, unfreezeLevel } from "./frozen-level.js";

const dirs: string[] = [];
let broker: RunningBroker | undefined;
const realSettled = StoreWriteWatch.prototype.settled;
afterEach(async () => {
  unfreezeLevel();
  StoreWriteWatch.prototype.settled = realSettled;
  await broker?.close();
  broker = undefined;
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

interface Line {
  level: number;
  msg: string;
}

function capture(): { logger: pino.Logger; lines: Line[] } {
  const lines: Line[] = [];
  const logger = pino({ level: "info" }, { write: (s: string) => lines.push(JSON.parse(s) as Line) });
  return { logger, lines };
}

function retained(b: RunningBroker, topic: string): Promise<void> {
  return retainedPayload(b, topic, Buffer.from("R1 1"));
}

function retainedPayload(b: RunningBroker, topic: string, payload: Buffer): Promise<void> {
  return new Promise((resolve, reject) =>
    b.aedes.publish({ cmd: "publish", topic, payload, qos: 0, retain: true, dup: false }, (err) =>
      err ? reject(err) : resolve(),
    ),
  );
}

/** A broker on a new data directory, its log captured, on a fake clock: the broker closed after the test. */
async function brokerOnDisk(name: string) {
  const dataDir = await mkdtemp(join(tmpdir(), name));
  dirs.push(dataDir);
  const { logger, lines } = capture();
  const sched = new FakeScheduler();
  const b = await startBroker({ host: "127.0.0.1", port: 0, dataDir, scheduler: sched, logger });
  broker = b;
  return { dataDir, logger, lines, sched, b };
}

describe("a data directory whose writes stop finishing", () => {
  it("is told once, turns /healthz to 503 until a write finishes, then says how long it lasted", async () => {
    const { dataDir, lines, sched, b } = await brokerOnDisk("store-stall-");
    const { thaw } = freezeLevel("put");
    const published = retained(b, "tf/report/n-1");
    sched.advance(4_000);
    expect(b.figures.storeHealth()).toEqual({ up: true });
    sched.advance(2_000);
    const health = b.figures.storeHealth();
    expect(health.up).toBe(false);
    expect(health.up ? "" : health.problem).toBe(
      `data directory ${dataDir} has finished no write for 6 s (1 waiting, the oldest a retained message for tf/report/n-1, for 6.0 s): its disk or file system is not answering`,
    );
    const errors = lines.filter((l) => l.level === 50);
    expect(errors.map((l) => l.msg)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^data directory ${dataDir} has finished no write for 5 s \\(1 waiting, the oldest a retained message for tf/report/n-1, for 5\\.0 s\\), and none has failed: .*fsfreeze -u`,
        ),
      ),
    ]);
    sched.advance(10_000);
    expect(lines.filter((l) => l.level === 50)).toHaveLength(1);

    thaw();
    await published;
    expect(b.figures.storeHealth()).toEqual({ up: true });
    expect(lines.filter((l) => l.level === 40).map((l) => l.msg)).toEqual([
      `data directory ${dataDir} finishes writes again after 16.0 s stalled; what waited for them goes out now`,
    ]);
  });
});

describe("the broker stopping on a data directory whose writes stop finishing", () => {
  it("says what it waits for, since when, and what SIGKILL would lose, once the oldest write has waited 5 s", async () => {
    const { dataDir, lines, sched, b } = await brokerOnDisk("store-stall-close-");
    const { thaw } = freezeLevel("put");
    // Its delivery is cut by the close (aedes's emitter closes); its write is what the stop waits for.
    const published = retained(b, "tf/report/n-1").catch(() => {});
    sched.advance(2_000);
    let closed = false;
    const closing = b.close().then(() => {
      closed = true;
    });
    const waits = () => lines.filter((l) => l.level === 40 && l.msg.startsWith("stopping:"));
    // The stop reaches the store's close, which waits for the write; 2 s is no stall yet.
    await vi.waitFor(() => expect(b.figures.listening()).toBe(false), { timeout: 10_000 });
    for (let i = 0; i < 20; i++) await hostTurn();
    expect(waits()).toEqual([]);
    sched.advance(3_000);
    expect(waits().map((l) => l.msg)).toEqual([
      `stopping: the broker waits for data directory ${dataDir} to finish the writes its disk has not ` +
        "answered (1 waiting, the oldest a retained message for tf/report/n-1, for 5.0 s), and ends once " +
        `they do: free the disk (fsfreeze -u, the snapshot's end, the volume back). ${KILL_WHILE_STALLED}`,
    ]);
    // Told once, however long it lasts; the store's stall is still told while it closes.
    sched.advance(10_000);
    expect(waits()).toHaveLength(1);
    expect(lines.filter((l) => l.level === 50).map((l) => l.msg)).toEqual([
      expect.stringMatching(/has finished no write for 5 s \(1 waiting, the oldest a retained message/),
    ]);
    expect(closed).toBe(false);
    // A second SIGTERM meanwhile says what the stop waits for, not that SIGKILL ends it at once.
    expect(stoppingAgainLine("SIGTERM", b.figures.storeHealth())).toBe(
      `SIGTERM: the broker is stopping already, and waits for its store: data directory ${dataDir} has ` +
        "finished no write for 15 s (1 waiting, the oldest a retained message for tf/report/n-1, for 15.0 s): " +
        `its disk or file system is not answering. ${KILL_WHILE_STALLED}`,
    );
    thaw();
    await published;
    await closing;
    // Its end is the stop's: the running broker's "what waited for them goes out now" is not.
    expect(waits().map((l) => l.msg)[1]).toBe(
      `stopping: data directory ${dataDir} answered again after 15.0 s: the writes the stop waited for are stored; stopping`,
    );
    expect(lines.filter((l) => l.msg.includes("goes out now"))).toEqual([]);
    expect(lines.at(-1)?.msg).toBe("broker closed");
  });
});

describe("the broker stopping between two of its looks at a write that stops finishing", () => {
  it("says what it waits for when the oldest write turns 5 s old, and its end after the store's stall", async () => {
    const { dataDir, lines, sched, b } = await brokerOnDisk("store-stall-between-");
    const { thaw } = freezeLevel("put");
    const published = retained(b, "tf/report/n-1").catch(() => {});
    // The stop begins half a second off the store's own once-a-second looks.
    sched.advance(2_500);
    const closing = b.close();
    const waits = () =>
      lines.filter((l) => l.level === 40 && l.msg.startsWith("stopping:")).map((l) => l.msg);
    await vi.waitFor(() => expect(b.figures.listening()).toBe(false), { timeout: 10_000 });
    for (let i = 0; i < 20; i++) await hostTurn();
    sched.advance(2_499);
    expect(waits()).toEqual([]);
    sched.advance(1);
    // At the write's 5 s, beside the store's own stall: not at the stop's next look, 0.5 s later.
    expect(waits()).toEqual([
      expect.stringContaining("(1 waiting, the oldest a retained message for tf/report/n-1, for 5.0 s)"),
    ]);
    expect(lines.filter((l) => l.level === 50).map((l) => l.msg)).toEqual([
      expect.stringContaining(`data directory ${dataDir} has finished no write for 5 s`),
    ]);
    // The stall ends before the stop's next look would have come: its end is the stop's line.
    sched.advance(200);
    thaw();
    await published;
    await closing;
    expect(waits()[1]).toBe(
      `stopping: data directory ${dataDir} answered again after 5.2 s: the writes the stop waited for are stored; stopping`,
    );
    expect(lines.filter((l) => l.msg.includes("goes out now"))).toEqual([]);
    expect(lines.at(-1)?.msg).toBe("broker closed");
  });
});

describe("a retained message queued behind another of its topic when the broker stops on a frozen disk", () => {
  it("is written once the disk answers, before the store closes, and kept for the next start", async () => {
    const { dataDir, logger, lines, sched, b } = await brokerOnDisk("store-stall-chain-");
    const { thaw } = freezeLevel("put");
    const payload = (p: string) => Buffer.from(p);
    const first = retainedPayload(b, "tf/report/n-1", payload("R1 1")).catch(() => {});
    const second = retainedPayload(b, "tf/report/n-1", payload("R1 2")).catch(() => {});
    sched.advance(6_000);
    // The stop's wait for the writes under way gives up after 3 s (StoreWriteWatch.settled): the disk
    // thaws after that, as a freeze longer than 3 s does.
    let gaveUp = false;
    StoreWriteWatch.prototype.settled = function (this: StoreWriteWatch, ...args: unknown[]) {
      return (realSettled as (...a: unknown[]) => Promise<void>).apply(this, args).then(() => {
        gaveUp = true;
      });
    } as typeof realSettled;
    const closing = b.close();
    await vi.waitFor(() => expect(gaveUp).toBe(true), { timeout: 20_000 });
    for (let i = 0; i < 20; i++) await hostTurn();
    thaw();
    await Promise.all([first, second, closing]);
    expect(lines.filter((l) => l.msg.includes("came after the store closed"))).toEqual([]);
    broker = undefined;
    const again = await startBroker({ host: "127.0.0.1", port: 0, dataDir, logger });
    broker = again;
    const store = (again.aedes as unknown as { persistence: IndexedLevelPersistence }).persistence;
    const kept = store.retained("tf/report/n-1");
    expect(kept?.payload.toString()).toBe("R1 2");
  });
});

describe("StoreStallWatch", () => {
  it("names the oldest write waiting, whatever began after it, and how long it has waited", () => {
    const { logger, lines } = capture();
    const sched = new FakeScheduler();
    const writes = new StoreWriteWatch("data directory d", logger, undefined, undefined, () => sched.now());
    const watch = new StoreStallWatch("data directory d", writes, sched, logger);
    writes.onProgress = () => watch.progressed();
    const client = { id: "n-7" };
    writes.begin(storeWriteName("putWill", [client, {}]));
    sched.advance(2_000);
    const retained = writes.begin(
      storeWriteName("storeRetained", [{ topic: "tf/report/n-3", payload: Buffer.from("x") }]),
    );
    writes.begin(storeWriteName("addSubscriptions", [client, []]));
    sched.advance(3_000);
    expect(lines.map((l) => l.msg)).toEqual([
      expect.stringMatching(
        /^data directory d has finished no write for 5 s \(3 waiting, the oldest the will of n-7, for 5\.0 s\), and none/,
      ),
    ]);
    writes.end(retained);
    expect(watch.problem).toBeUndefined();
    sched.advance(7_000);
    expect(watch.problem).toBe(
      "data directory d has finished no write for 7 s (2 waiting, the oldest the will of n-7, for 12.0 s): its disk or file system is not answering",
    );
    watch.stop();
  });

  it("leaves a slow store that still finishes writes alone, and an idle one", () => {
    const { logger, lines } = capture();
    const sched = new FakeScheduler();
    const writes = { writing: 0, underWay: { oldest: () => undefined } };
    const watch = new StoreStallWatch("data directory d", writes, sched, logger);
    sched.advance(60_000);
    // Always some waiting, one finishing every 4 s.
    writes.writing = 3;
    watch.progressed();
    for (let i = 0; i < 20; i++) {
      sched.advance(4_000);
      watch.progressed();
    }
    expect(watch.problem).toBeUndefined();
    expect(lines).toEqual([]);
    watch.stop();
  });

  it("does not take an event loop held for seconds for a disk that stopped", () => {
    const { logger, lines } = capture();
    // A clock that moves only when told, with no timers run: the checks are called by hand, as a
    // loop held for 6 s runs the first one 6 s late, before the writes' callbacks of that time.
    let t = 0;
    const sched = { now: () => t, wallNow: () => t, at: () => ({ cancel() {} }) };
    const writes = { writing: 2, underWay: { oldest: () => undefined } };
    const watch = new StoreStallWatch("data directory d", writes, sched, logger);
    watch.progressed();
    t = 6_000;
    watch.check();
    watch.progressed();
    for (let i = 0; i < 4; i++) {
      t += 1_000;
      watch.check();
    }
    expect(lines).toEqual([]);
    // Checks on time while nothing finishes: a stall, told 5 s after the last progress.
    t += 1_000;
    watch.check();
    expect(lines.map((l) => l.msg)).toEqual([
      expect.stringMatching(/^data directory d has finished no write for 5 s/),
    ]);
  });
});
