/**
 * The broker's test write of its data directory (broker/store-probe.ts): a directory that cannot be
 * written while nothing is written turns `/healthz` 503 within 30 s, naming the file, and back to ok
 * once a test write passes. Before it, the broker said ok until a write failed (a quiet fleet makes
 * none). The broker, its store and the file system are real; the clock is a fake one.
 */
import { mkdtemp, readdir, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { FakeScheduler, hostTurn } from "../../node/scheduler.js";
import { type RunningBroker, startBroker } from "../server.js";
import { type ProbedStore, STORE_PROBE_MS, STORE_PROBE_RETRY_MS, StoreProbe } from "../store-probe.js";

const dirs: string[] = [];
let broker: RunningBroker | undefined;
afterEach(async () => {
  await broker?.close();
  broker = undefined;
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

interface Line {
  level: number;
  msg: string;
}

const turns = async (n = 10) => {
  for (let i = 0; i < n; i++) await hostTurn();
};

describe("the broker's test write of its data directory", () => {
  it("turns /healthz 503 naming the file within 30 s of the directory going, and ok once it is back", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "store-probe-"));
    dirs.push(dataDir, `${dataDir}-away`);
    const lines: Line[] = [];
    const logger = pino({ level: "info" }, { write: (s: string) => lines.push(JSON.parse(s) as Line) });
    const sched = new FakeScheduler();
    broker = await startBroker({ host: "127.0.0.1", port: 0, dataDir, scheduler: sched, logger });
    const b = broker;
    // Its open files stay open: only a new file in the directory fails, as on a disk remounted read-only.
    await rename(dataDir, `${dataDir}-away`);
    sched.advance(STORE_PROBE_MS - 1_000);
    await turns();
    expect(b.figures.storeHealth()).toEqual({ up: true });
    sched.advance(1_000);
    await vi.waitFor(() => expect(b.figures.storeHealth().up).toBe(false), { timeout: 10_000 });
    const health = b.figures.storeHealth();
    expect(health.up ? "" : health.problem).toMatch(
      new RegExp(
        `^data directory ${dataDir} cannot be written \\(ENOENT: no such file or directory, open '${dataDir}/broker\\.probe\\.${process.pid}\\.\\d+\\.tmp'\\)$`,
      ),
    );
    const errors = lines.filter((l) => l.level === 50 && l.msg.includes("cannot be written"));
    expect(errors).toHaveLength(1);
    await rename(`${dataDir}-away`, dataDir);
    sched.advance(STORE_PROBE_RETRY_MS);
    await vi.waitFor(() => expect(b.figures.storeHealth()).toEqual({ up: true }), { timeout: 10_000 });
    expect(lines.some((l) => l.msg === `data directory ${dataDir} is written again`)).toBe(true);
  });

  it("removes at start the test writes a killed run left, and only those of a process gone", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "store-probe-"));
    dirs.push(dataDir);
    // 999999999 is over any pid_max: no process has it. The parent (vitest) runs.
    const kept = [
      `broker.probe.${process.ppid}.2.tmp`,
      "twins.probe.999999999.1.tmp",
      "broker.probe.x.1.tmp",
    ];
    for (const name of ["broker.probe.999999999.7.tmp", ...kept]) await writeFile(join(dataDir, name), "x");
    const lines: Line[] = [];
    const logger = pino({ level: "info" }, { write: (s: string) => lines.push(JSON.parse(s) as Line) });
    broker = await startBroker({
      host: "127.0.0.1",
      port: 0,
      dataDir,
      scheduler: new FakeScheduler(),
      logger,
    });
    const left = (await readdir(dataDir)).filter((n) => n.endsWith(".tmp"));
    expect(left.sort()).toEqual([...kept].sort());
    expect(lines.map((l) => l.msg)).toContain(`${dataDir}: test-write files left by a killed run removed`);
  });
});

/** A store whose writes fail or stall as the test sets, counting what the test write reports. */
function store(): ProbedStore & { problemNow: string | undefined; failures: number; passes: number } {
  return {
    problemNow: undefined,
    failures: 0,
    passes: 0,
    get problem() {
      return this.problemNow;
    },
    failed(_what, _err) {
      this.failures++;
      this.problemNow = "data directory d cannot be written (EROFS)";
    },
    succeeded() {
      this.passes++;
      this.problemNow = undefined;
    },
    began: () => 0,
    ended() {},
  };
}

describe("StoreProbe", () => {
  it("makes no test write while a store write is failing or stalled already", async () => {
    const sched = new FakeScheduler();
    const s = store();
    let probes = 0;
    const probe = new StoreProbe("d", s, sched, { probe: async () => void probes++ });
    s.problemNow = "data directory d has finished no write for 6 s (1 waiting)";
    sched.advance(3 * STORE_PROBE_MS);
    await turns();
    expect(probes).toBe(0);
    s.problemNow = undefined;
    sched.advance(STORE_PROBE_MS);
    await turns();
    expect(probes).toBe(1);
    probe.stop();
  });

  it("tries a failed test write again every 5 s until one passes, or a store write clears it", async () => {
    const sched = new FakeScheduler();
    const s = store();
    let failing = true;
    let probes = 0;
    const probe = new StoreProbe("d", s, sched, {
      probe: async () => {
        probes++;
        if (failing) throw new Error("EROFS: read-only file system, open 'd/broker.probe.1.0.tmp'");
      },
    });
    sched.advance(STORE_PROBE_MS);
    await turns();
    expect([s.failures, s.problem]).toEqual([1, "data directory d cannot be written (EROFS)"]);
    sched.advance(STORE_PROBE_RETRY_MS);
    await turns();
    expect([probes, s.failures]).toEqual([2, 2]);
    failing = false;
    sched.advance(STORE_PROBE_RETRY_MS);
    await turns();
    expect([probes, s.passes, s.problem]).toEqual([3, 1, undefined]);
    // Passing, it is back to every 30 s.
    sched.advance(STORE_PROBE_RETRY_MS);
    await turns();
    expect(probes).toBe(3);
    // A store write that succeeds after a failed test write clears it: the next test write is 30 s on.
    failing = true;
    sched.advance(STORE_PROBE_MS - STORE_PROBE_RETRY_MS);
    await turns();
    expect(probes).toBe(4);
    s.succeeded();
    failing = false;
    sched.advance(STORE_PROBE_RETRY_MS);
    await turns();
    expect([probes, s.passes]).toEqual([5, 2]);
    probe.stop();
  });
});
