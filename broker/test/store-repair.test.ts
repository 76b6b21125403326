/**
 * A LevelDB store written again after a full disk: LevelDB drops, on its next start, every record
 * that followed a failed write in its log, so once writes succeed again the broker stores the
 * retained topics whose writes failed (as it holds them now) and compacts the log away. As root
 * (here and in CI) on a real full tmpfs, reopened after: every topic has its newest message, where
 * without the repair all that was written after the disk filled was gone. Without root, the repair's
 * steps against a store whose writes are made to fail.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClassicLevel } from "classic-level";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { isTableWriteError } from "../level-reopen.js";
import { LevelRepair } from "../level-repair.js";
import { IndexedLevelPersistence } from "../level-store.js";
import { openStore } from "../persistence.js";
import type { RetainedPacket } from "../retained-index.js";
import { StoreWriteWatch, surviveStoreWrites } from "../store-writes.js";

interface Line {
  level: number;
  msg: string;
  restored?: number;
}

const packet = (topic: string, text: string) => ({
  cmd: "publish" as const,
  topic,
  payload: Buffer.from(text),
  qos: 0 as const,
  retain: true,
  dup: false,
});

describe("the repair's steps", () => {
  it("stores the failed topics as held now, then compacts; failing again, it waits for the next success", async () => {
    const lines: Line[] = [];
    const logger = pino({ level: "info" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
    const held = new Map<string, RetainedPacket>();
    const writes: string[] = [];
    let diskFull = true;
    const store = {
      putWill: async () => undefined,
      delWill: async () => undefined,
      storeRetained: async (p: RetainedPacket) => {
        held.set(p.topic, p);
        if (diskFull) throw new Error("IO error: d/000003.log: No space left on device");
        writes.push(`${p.topic}=${Buffer.from(p.payload).toString()}`);
      },
    };
    const compactRange = vi.fn(async () => {});
    const db = { status: "open", compactRange, close: async () => {}, open: async () => {} };
    const repair = new LevelRepair(db, "d", "data directory d", logger);
    surviveStoreWrites(store, new StoreWriteWatch("data directory d", logger), {
      repair,
      retained: (topic) => held.get(topic),
    });
    await store.storeRetained(packet("tf/report/a", "R1 1 1 a"));
    await store.storeRetained(packet("tf/report/b", "R1 1 1 b"));
    await store.storeRetained(packet("tf/report/a", "R1 0 2 a")); // a's newest, failed too
    diskFull = false;
    await store.storeRetained(packet("tf/report/b", "R1 0 2 b")); // written: b is done
    await repair.settled();
    expect(writes).toEqual(["tf/report/b=R1 0 2 b", "tf/report/a=R1 0 2 a"]);
    expect(compactRange).toHaveBeenCalledTimes(1);
    expect(lines.at(-1)).toMatchObject({ level: 40, restored: 1 });
    expect(lines.at(-1)?.msg).toContain("compacted");
    // A repair whose own write fails stops there, and the next success starts it again.
    diskFull = true;
    await store.storeRetained(packet("tf/report/c", "R1 1 1 c"));
    diskFull = false;
    await store.storeRetained(packet("tf/report/d", "R1 1 1 d"));
    await repair.settled();
    expect(writes.slice(2)).toEqual(["tf/report/d=R1 1 1 d", "tf/report/c=R1 1 1 c"]);
    expect(compactRange).toHaveBeenCalledTimes(2);
  });

  it("is among the store's writes under way while its disk work lasts: a frozen disk's stall and stop name it", async () => {
    const logger = pino({ level: "silent" });
    let release = () => {};
    const compactRange = vi.fn(() => new Promise<void>((resolve) => (release = resolve)));
    const db = { status: "open", compactRange, close: async () => {}, open: async () => {} };
    const watch = new StoreWriteWatch("data directory d", logger);
    const repair = new LevelRepair(db, "d", "data directory d", logger, undefined, watch);
    repair.failed();
    repair.succeeded();
    await vi.waitFor(() => expect(compactRange).toHaveBeenCalledTimes(1));
    expect(watch.writing).toBe(1);
    expect(watch.underWay.oldest()?.what).toBe("the compaction of d's log after failed writes");
    release();
    await repair.settled();
    expect(watch.writing).toBe(0);
  });
});

/** The retained messages a store in `dataDir` holds once opened again. */
const readBack = async (dataDir: string): Promise<Map<string, string>> => {
  const store = await openStore(dataDir, undefined, pino({ level: "silent" }));
  const persistence = store.persistence as IndexedLevelPersistence;
  await persistence.setup({});
  const out = new Map<string, string>();
  for await (const p of persistence.createRetainedStream("#") as AsyncIterable<RetainedPacket>) {
    out.set(p.topic, Buffer.from(p.payload).toString());
  }
  await store.close();
  return out;
};

const asRoot = process.getuid?.() === 0;
// Only the tests for the machine at hand are defined: as root the real disk, else the steps above.
const rootOnly = asRoot ? describe : () => {};

/** A tmpfs of `size` mounted for the describe block it is called in (root only). */
function tmpfs(name: string, size: string): string {
  const mnt = mkdtempSync(join(tmpdir(), `twinfleet-${name}-`));
  beforeAll(() => {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", mnt]);
  });
  afterAll(() => {
    execFileSync("umount", ["-l", mnt]);
    rmSync(mnt, { recursive: true, force: true });
  });
  return mnt;
}

rootOnly("a real full disk (tmpfs), as root", () => {
  const mnt = tmpfs("fulldisk", "1m");

  /** Fills the file system with a file; returns its path. */
  const fill = (): string => {
    const filler = join(mnt, "filler");
    const chunk = Buffer.alloc(64 * 1024);
    let size = 0;
    try {
      for (;;) {
        writeFileSync(filler, chunk, { flag: "a" });
        size += chunk.length;
      }
    } catch {
      // ENOSPC: full
    }
    expect(size).toBeGreaterThan(0);
    return filler;
  };

  it("keeps what was written after the disk filled and room came back, across a restart", async () => {
    const dataDir = join(mnt, "broker");
    const lines: Line[] = [];
    const logger = pino({ level: "info" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
    const store = await openStore(dataDir, undefined, logger);
    const persistence = store.persistence as IndexedLevelPersistence;
    await persistence.setup({});
    const topics = Array.from({ length: 50 }, (_, i) => `tf/report/n-${String(i).padStart(4, "0")}`);
    const round = async (n: number) => {
      for (const t of topics)
        await persistence.storeRetained(packet(t, `R1 ${n % 2} ${n} ${"x".repeat(300)}`));
    };
    await round(1);
    const filler = fill();
    await round(2); // fails, at least in part
    expect(lines.some((l) => l.level === 50 && /cannot be written/.test(l.msg))).toBe(true);
    rmSync(filler);
    await round(3);
    await round(4);
    await store.close();
    expect(lines.some((l) => /compacted/.test(l.msg))).toBe(true);
    const back = await readBack(dataDir);
    expect(back.size).toBe(topics.length);
    for (const t of topics) expect(back.get(t)?.split(" ")[2]).toBe("4");
  });
});

rootOnly("LevelDB stopped by a failed table write (tmpfs), as root", () => {
  const mnt = tmpfs("stopped", "32m");

  it("opens it again once there is room, and keeps what was published meanwhile across a restart", async () => {
    const dataDir = join(mnt, "broker");
    mkdirSync(dataDir);
    // 6 MB left: room for the log's appends, not for the 4 MB memory table's flush.
    const filler = join(mnt, "filler");
    writeFileSync(filler, Buffer.alloc(26 * 1024 * 1024));
    const lines: Line[] = [];
    const logger = pino({ level: "info" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
    let now = 0;
    const db = new ClassicLevel<string, Buffer>(dataDir, { valueEncoding: "buffer" });
    await db.open();
    const persistence = new IndexedLevelPersistence(db, dataDir);
    await persistence.setup({});
    const where = `data directory ${dataDir}`;
    const repair = new LevelRepair(db, dataDir, where, logger, () => now);
    surviveStoreWrites(persistence, new StoreWriteWatch(where, logger, () => now), {
      repair,
      retained: (topic) => persistence.retained(topic),
    });
    const topics = Array.from({ length: 500 }, (_, i) => `tf/report/n-${String(i).padStart(4, "0")}`);
    const round = async (n: number) => {
      for (const t of topics) {
        await persistence.storeRetained(packet(t, `R1 ${n % 2} ${n} ${randomBytes(200).toString("hex")}`));
      }
    };
    // Stopped: a write fails with a table's error (a log append may fail first, with the log's).
    const stopped = async () => {
      try {
        await db.put("probe", Buffer.from("x"));
        return false;
      } catch (e) {
        return isTableWriteError(e);
      }
    };
    let n = 0;
    while (!(await stopped()) && n < 80) await round(++n);
    expect(await stopped()).toBe(true);
    await round(++n); // fails whole: LevelDB takes no write now
    rmSync(filler);
    now += 10_001;
    await round(++n); // the first failure after 10 s finds room: reopened, then repaired
    await repair.settled();
    expect(lines.some((l) => /opened again/.test(l.msg))).toBe(true);
    await round(++n);
    await repair.settled();
    await persistence.destroy();
    const back = await readBack(dataDir);
    expect(back.size).toBe(topics.length);
    for (const t of topics) expect(back.get(t)?.split(" ")[2]).toBe(String(n));
  }, 60_000);
});
