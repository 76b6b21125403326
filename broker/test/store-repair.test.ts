/**
 * A LevelDB store written again after a full disk: LevelDB drops, on its next start, every record
 * that followed a failed write in its log, so once writes succeed again the broker stores the
 * retained topics whose writes failed (as it holds them now) and compacts the log away. As root
 * (here and in CI) on a real full tmpfs, reopened after: every topic has its newest message, where
 * without the repair all that was written after the disk filled was gone. Without root, the repair's
 * steps against a store whose writes are made to fail.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { LevelRepair } from "../level-repair.js";
import type { IndexedLevelPersistence } from "../level-store.js";
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
    const repair = new LevelRepair({ compactRange }, "data directory d", logger);
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
});

const asRoot = process.getuid?.() === 0;
// Only the tests for the machine at hand are defined: as root the real disk, else the steps above.
const rootOnly = asRoot ? describe : () => {};

rootOnly("a real full disk (tmpfs), as root", () => {
  const mnt = mkdtempSync(join(tmpdir(), "twinfleet-fulldisk-"));
  beforeAll(() => {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt]);
  });
  afterAll(() => {
    execFileSync("umount", [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  });

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
