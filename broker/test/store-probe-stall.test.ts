/**
 * The broker's test write of its data directory that the disk does not answer (a frozen file system,
 * a hung disk or network volume): it is one of the store's writes under way, so after 5 s it is the
 * store's stall (broker/store-stall.ts): one ERROR, `/healthz` 503 naming the directory and how long,
 * and one line when it ends. Before, nothing timed it: on a quiet fleet the broker said ok for as long
 * as the disk stayed frozen. The test write is held here by the test (no file system can be frozen
 * without root); the broker and its store are real, the clock a fake one.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { FakeScheduler, hostTurn } from "../../node/scheduler.js";
import { type RunningBroker, startBroker } from "../server.js";
import { STORE_PROBE_MS } from "../store-probe.js";
import { STORE_STALL_CHECK_MS, STORE_STALLED_MS } from "../store-stall.js";

/** The test writes begun and not yet let end: each ends when the test calls it. */
const held: (() => void)[] = [];
vi.mock("../../node/dir-probe.js", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../node/dir-probe.js")>();
  return {
    ...real,
    probeWritable: () => new Promise<void>((resolve) => held.push(resolve)),
  };
});

const dirs: string[] = [];
let broker: RunningBroker | undefined;
afterEach(async () => {
  for (const end of held.splice(0)) end();
  await broker?.close();
  broker = undefined;
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

interface Line {
  level: number;
  msg: string;
  stalledMs?: number;
}

const turns = async (n = 10) => {
  for (let i = 0; i < n; i++) await hostTurn();
};

describe("a broker test write the disk does not answer", () => {
  it("is a stall after 5 s: one ERROR, /healthz 503 naming the directory, one line when it ends", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "store-probe-stall-"));
    dirs.push(dataDir);
    const lines: Line[] = [];
    const logger = pino({ level: "info" }, { write: (s: string) => lines.push(JSON.parse(s) as Line) });
    const sched = new FakeScheduler();
    broker = await startBroker({ host: "127.0.0.1", port: 0, dataDir, scheduler: sched, logger });
    const b = broker;
    sched.advance(STORE_PROBE_MS);
    await vi.waitFor(() => expect(held).toHaveLength(1), { timeout: 10_000 });
    // Not yet 5 s: still ok.
    for (let t = 0; t < STORE_STALLED_MS - STORE_STALL_CHECK_MS; t += STORE_STALL_CHECK_MS) {
      sched.advance(STORE_STALL_CHECK_MS);
      await turns();
    }
    expect(b.figures.storeHealth()).toEqual({ up: true });
    sched.advance(STORE_STALL_CHECK_MS);
    await turns();
    expect(b.figures.storeHealth()).toEqual({
      up: false,
      problem: `data directory ${dataDir} has finished no write for 5 s (1 waiting, the oldest the test write of ${dataDir}, for 5.0 s): its disk or file system is not answering`,
    });
    const stalls = () =>
      lines.filter((l) => l.level === 50 && l.msg.includes("has finished no write for 5 s"));
    expect(stalls()).toHaveLength(1);
    expect(stalls()[0]?.msg).toMatch(
      new RegExp(
        `^data directory ${dataDir} has finished no write for 5 s \\(1 waiting, the oldest the test write of ${dataDir}, for 5\\.0 s\\), and none has failed`,
      ),
    );
    // It lasts, told once, for as long as the test write hangs.
    for (let i = 0; i < 37; i++) {
      sched.advance(STORE_STALL_CHECK_MS);
      await turns();
    }
    const health = b.figures.storeHealth();
    expect(health.up ? "" : health.problem).toContain(
      `has finished no write for 42 s (1 waiting, the oldest the test write of ${dataDir}, for 42.0 s)`,
    );
    expect(stalls()).toHaveLength(1);
    held.shift()?.();
    await vi.waitFor(() => expect(b.figures.storeHealth()).toEqual({ up: true }), { timeout: 10_000 });
    const ends = lines.filter((l) => l.msg.includes("finishes writes again after"));
    expect(ends.map((l) => [l.level, l.msg, l.stalledMs])).toEqual([
      [
        40,
        `data directory ${dataDir} finishes writes again after 42.0 s stalled; what waited for them goes out now`,
        42_000,
      ],
    ]);
    // The next test write is made 30 s after this one ended.
    sched.advance(STORE_PROBE_MS);
    await vi.waitFor(() => expect(held).toHaveLength(1), { timeout: 10_000 });
  });
});
