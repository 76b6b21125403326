/**
 * A write of the convergence history that does not end (a frozen disk: `fsfreeze`): counted as a
 * failing write once it has run HISTORY_STALLED_MS (`/healthz`'s `degraded` reason and
 * `twinfleet_twins_history_written` 0 read `unwritten`), since the write began, cleared when it ends. Before, only the
 * saver's 30 s test write found the freeze. The file's writes are held here as a frozen disk holds them.
 */
import { pino } from "pino";
import { describe, expect, it, vi } from "vitest";
import { FakeScheduler, hostTurn } from "../../node/scheduler.js";
import { HISTORY_FLUSH_MS, HistoryKeeper } from "../history-keeper.js";

/** HISTORY_STALLED_MS (history-keeper.ts), as a frozen disk is told in. */
const HISTORY_STALLED_MS = 5_000;

const disk = vi.hoisted(() => ({
  frozen: false,
  writes: 0,
  held: [] as { thaw: () => void; fail: (e: Error) => void }[],
}));

vi.mock("../history-file.js", async (importOriginal) => {
  const real = await importOriginal<typeof import("../history-file.js")>();
  const write = async () => {
    disk.writes++;
    if (disk.frozen)
      await new Promise<void>((thaw, fail) => {
        disk.held.push({ thaw, fail });
      });
  };
  return { ...real, appendHistory: write, rewriteHistory: write };
});

const turns = async (n = 10) => {
  for (let i = 0; i < n; i++) await hostTurn();
};

function keeper() {
  const sched = new FakeScheduler();
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: "info" }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  const kept = { file: "/data/convergence-history.jsonl", points: [], minutes: [], writable: true };
  const k = new HistoryKeeper(kept, 16, sched, logger, () => []);
  return { sched, lines, k };
}

describe("a convergence-history write that does not end (a frozen disk)", () => {
  it("counts as failing once it has run 5 s, until it ends", async () => {
    disk.frozen = false;
    disk.held = [];
    const { sched, lines, k } = keeper();
    await turns();
    expect(k.unwritten).toBeUndefined();
    disk.frozen = true; // fsfreeze -f
    k.added({ t: HISTORY_FLUSH_MS, fraction: 1, inSync: 1, known: 1 }, false);
    sched.advance(HISTORY_FLUSH_MS);
    await turns();
    expect(disk.held).toHaveLength(1);
    sched.advance(HISTORY_STALLED_MS - 1);
    await turns();
    expect(k.unwritten).toBeUndefined();
    sched.advance(1);
    // Unwritten since the write began, not since it was judged stuck: `/healthz` said `for 0 s` of a
    // write 5 s under way.
    expect(k.unwritten).toEqual({
      since: HISTORY_FLUSH_MS,
      file: "/data/convergence-history.jsonl",
      cause:
        "a write begun 5 s before has not ended: its disk or file system is not answering (frozen, a hung disk or network volume?)",
    });
    expect(lines.filter((l) => l.level === 50).map((l) => l.msg)).toEqual([
      expect.stringMatching(
        /^twins: the convergence history cannot be written to \/data\/convergence-history\.jsonl \(a write begun 5 s before has not ended/,
      ),
    ]);
    sched.advance(3 * HISTORY_FLUSH_MS); // no second write behind the hung one
    await turns();
    expect(disk.held).toHaveLength(1);
    expect(k.unwritten?.since).toBe(HISTORY_FLUSH_MS);
    disk.frozen = false; // fsfreeze -u: the write ends
    disk.held[0]?.thaw();
    await k.settled();
    expect(k.unwritten).toBeUndefined();
    expect(lines.at(-1)?.msg).toBe(
      "twins: the convergence history is written again to /data/convergence-history.jsonl",
    );
    k.stop();
  });

  it("says how long its hung write has run, and a clean stop waits for it, then records the stop", async () => {
    // A SIGTERM while the history's write hangs waited for it with nothing said: the stop now reads
    // `stalled` (twins/stop-wait.ts), and still waits, as the process cannot end before the write.
    disk.frozen = false;
    disk.held = [];
    const { sched, k } = keeper();
    await turns();
    disk.frozen = true;
    k.added({ t: HISTORY_FLUSH_MS, fraction: 1, inSync: 1, known: 1 }, false);
    sched.advance(HISTORY_FLUSH_MS);
    await turns();
    sched.advance(HISTORY_STALLED_MS - 1);
    expect(k.stalled).toBeUndefined();
    sched.advance(1);
    expect(k.stalled).toEqual({ since: HISTORY_FLUSH_MS, file: "/data/convergence-history.jsonl" });
    let closed = false;
    const closing = k.close().then(() => {
      closed = true;
    });
    sched.advance(60_000);
    await turns();
    expect(closed).toBe(false);
    expect(k.stalled?.since).toBe(HISTORY_FLUSH_MS);
    const writes = disk.writes;
    disk.frozen = false; // fsfreeze -u
    disk.held[0]?.thaw();
    await closing;
    expect(disk.writes).toBe(writes + 1); // the clean stop's record, after the write it waited for
    expect(k.stalled).toBeUndefined();
  });

  it("a hung write that then fails stays failing, with the failure's cause", async () => {
    disk.frozen = true;
    disk.held = [];
    const { sched, k } = keeper(); // the start's whole write hangs
    sched.advance(HISTORY_STALLED_MS);
    expect(k.unwritten?.since).toBe(0);
    disk.held[0]?.fail(new Error("EIO: i/o error, write"));
    await k.settled();
    expect(k.unwritten).toEqual({
      since: 0,
      file: "/data/convergence-history.jsonl",
      cause: "EIO: i/o error, write",
    });
    disk.frozen = false;
    sched.advance(HISTORY_FLUSH_MS);
    await turns();
    await k.settled();
    expect(k.unwritten).toBeUndefined();
    k.stop();
  });
});
