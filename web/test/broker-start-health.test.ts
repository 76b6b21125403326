/**
 * A standalone broker's `--http` while its start waits on a data directory that does not answer (a
 * frozen file system holds LevelDB's open). Before, `--http` opened only once the store had: a probe
 * got "connection refused" for as long as the disk was frozen, as from a dead broker. Now it opens
 * before the store, the MQTT port still after: `/healthz` answers 503 naming the directory and how
 * long, `/metrics` gives `store_up 0`, and both serve the running broker once it listens. LevelDB's
 * open is held as broker/test/store-open-wait.test.ts holds it; the clock is a fake one.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { runBrokerCommand } from "../../broker/command.js";
import { freezeLevel, unfreezeLevel } from "../../broker/test/frozen-level.js";
import { FakeScheduler, hostTurn } from "../../node/scheduler.js";
import { type BrokerHttpServer, startBrokerHttp } from "../broker-server.js";

const dirs: string[] = [];
const runs: { abort: AbortController; done: Promise<void> }[] = [];
afterEach(async () => {
  unfreezeLevel();
  for (const r of runs.splice(0)) {
    r.abort.abort();
    await r.done.catch(() => undefined);
  }
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** Waits, a host turn at a time, until `ok()`: a generous bound (the first start loads LevelDB). */
async function until(ok: () => boolean, what: string): Promise<void> {
  const end = performance.now() + 20_000;
  while (!ok() && performance.now() < end) await hostTurn();
  if (!ok()) throw new Error(`never happened: ${what}`);
}

async function start(frozen: boolean) {
  const dataDir = await mkdtemp(join(tmpdir(), "broker-start-health-"));
  dirs.push(dataDir);
  const sched = new FakeScheduler(0, Date.UTC(2026, 0, 1));
  const held = frozen ? freezeLevel("open") : undefined;
  const abort = new AbortController();
  let http: BrokerHttpServer | undefined;
  let listened = false;
  const done = runBrokerCommand(
    { host: "127.0.0.1", port: "0", data: dataDir },
    {
      logger: pino({ level: "silent" }),
      scheduler: sched,
      signal: abort.signal,
      http: async (starting) => {
        http = await startBrokerHttp({ figures: { starting }, host: "127.0.0.1", port: 0, token: "t" });
        return { started: (b) => http?.started(b.figures), close: () => http?.close() ?? Promise.resolve() };
      },
      onListening: () => {
        listened = true;
      },
    },
  );
  runs.push({ abort, done });
  await until(() => http !== undefined, "--http open");
  const get = async (path: string) => {
    const r = await fetch(`${http?.origin}${path}`);
    return { status: r.status, text: await r.text() };
  };
  return { dataDir, sched, held, abort, done, get, listened: () => listened };
}

describe("the broker's --http while its start waits on its data directory", () => {
  it("answers /healthz 503 naming the directory and /metrics store_up 0, then serves the broker", async () => {
    const s = await start(true);
    await until(() => (s.held?.held() ?? 0) > 0, "LevelDB's open held");
    const early = await s.get("/healthz");
    expect(early.status).toBe(503);
    expect(JSON.parse(early.text).detail).toBe(
      "the broker is starting: its store is not open yet, its MQTT port not opened",
    );
    for (let i = 0; i < 5; i++) {
      s.sched.advance(1000);
      await hostTurn();
    }
    const told = await s.get("/healthz");
    expect(told.status).toBe(503);
    const detail = JSON.parse(told.text).detail as string;
    expect(detail).toContain(`the broker is starting: the start waits for its data directory ${s.dataDir}`);
    expect(detail).toContain(
      "(opening it as a LevelDB store, which writes a new log and manifest), not answering for 5 s",
    );
    expect(detail).toContain("its MQTT port opens once it has");
    const metrics = await s.get("/metrics");
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain('twinfleet_broker_store_up{store="level"} 0');
    expect((await s.get("/backup")).status).toBe(503);
    expect(s.listened()).toBe(false);

    s.held?.thaw();
    await until(s.listened, "the broker listening");
    const ok = await s.get("/healthz");
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.text)).toMatchObject({ status: "ok", store: "level" });
    expect((await s.get("/metrics")).text).toContain('twinfleet_broker_store_up{store="level"} 1');
    s.abort.abort();
    await s.done;
  });

  it("serves the running broker at once on a directory that answers, and closes with it", async () => {
    const s = await start(false);
    await until(s.listened, "the broker listening");
    expect((await s.get("/healthz")).status).toBe(200);
    s.abort.abort();
    await s.done;
    await expect(s.get("/healthz")).rejects.toThrow();
  });
});
