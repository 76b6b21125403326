/**
 * A thread of a wall-time run that dies (out of memory, an uncaught error, ended): the run used to go
 * on to its end without it — a node thread's nodes silent, the embedded broker's death told as an
 * outage of the broker "not back by the end" — and a dead node thread then failed the whole run with
 * its bare error and no report. The run now ends at the death, and its report, marked `threadDied`
 * and cut short, keeps what was measured until then.
 */
import type { Worker } from "node:worker_threads";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { BrokerThreadHost } from "../../fleet/broker-thread.js";
import { requirementFailures } from "../../fleet/report.js";
import { FleetRun } from "../../fleet/run.js";
import { until } from "../../fleet/test/run-until.js";
import { threadCause, threadDeathLine } from "../../fleet/thread-death.js";
import { NodeId } from "../../protocol/index.js";
import { summary } from "../sim-summary.js";

function waitPhase(run: FleetRun, phase: string): Promise<void> {
  return new Promise((resolve) => {
    if (run.phase === phase) resolve();
    else run.on("phase", (p) => p === phase && resolve());
  });
}

/** The run's node threads (piscina's) and its broker's thread: ended here as a crash would end them. */
const nodeThreads = (run: FleetRun) =>
  (run as unknown as { pool: { pool: { threads: Worker[] } } }).pool.pool.threads;
const brokerThread = (run: FleetRun) =>
  (run as unknown as { parts: { broker: { worker: Worker } } }).parts.broker.worker;

const start = () =>
  FleetRun.start({
    nodes: 8,
    topology: "ring",
    groupSize: 8,
    ratePerNodePerMin: 0,
    durationS: 300,
    settleS: 60,
    profile: "ideal",
    workers: 2,
  });

describe.concurrent("a thread of the run that dies", () => {
  it("a node thread: the run ends there with the other thread's figures, marked", async () => {
    const run = await start();
    const lines: string[] = [];
    run.on("log", (line, level) => level === "error" && lines.push(line));
    await waitPhase(run, "press");
    run.press(NodeId("n-0000"));
    await until(run, "the press is delivered", () => run.collector.checker.counts().deliveries >= 7);
    const [thread] = nodeThreads(run);
    await thread?.terminate();
    // Without the end at the death this waited the 300 s of presses, then failed with no report.
    const r = await run.done;
    expect(r.threadDied).toMatchObject({ thread: expect.stringMatching(/^worker-[01]$/), nodes: 4 });
    expect(r.threadDied?.outOfMemory).toBe(false);
    expect(r.cutShort).toBe(true);
    expect(r.presses).toBe(1);
    expect(r.deliveries).toBe(7);
    // The dead thread's nodes and their followers are not judged: what they hold is unknown.
    expect(r.diverged).toBe(0);
    expect(lines.filter((l) => l.includes("died"))).toHaveLength(1);
    expect(summary(r)).toMatch(/THREAD DIED {4}worker thread [01] \(4 nodes\) died \d+ s into the run/);
    expect(requirementFailures(r)[0]).toMatch(/^worker thread [01] \(4 nodes\) died .*the run ended there/);
  }, 60_000);

  it("the broker's thread in the boot: no press is made, no press or settle told, nothing diverged", async () => {
    const run = await FleetRun.start({
      nodes: 8,
      topology: "ring",
      groupSize: 8,
      ratePerNodePerMin: 600,
      durationS: 300,
      settleS: 60,
      profile: "ideal",
      workers: 2,
    });
    const phases: string[] = [];
    run.on("phase", (p) => phases.push(p));
    const pool = (run as unknown as { pool: { broadcast(c: { type: string }): void } }).pool;
    const sent: string[] = [];
    const broadcast = pool.broadcast.bind(pool);
    pool.broadcast = (c) => {
      sent.push(c.type);
      broadcast(c);
    };
    await brokerThread(run).terminate();
    const r = await run.done;
    expect(r.threadDied).toMatchObject({ thread: "broker" });
    // Before, the presses started after the death (node threads late to read it took those past
    // due: 67 of them), and a press and a settle line followed the death's.
    expect(sent).not.toContain("start-presses");
    expect(phases).toEqual(["done"]);
    expect(r.presses).toBe(0);
    // Every node on its power-on state: one state (off), not 1 of 8 diverged by its origin's tie-break.
    expect(r.diverged).toBe(0);
    // No settle began: none is timed, and none said stopped (`the settle was stopped after 0.3 s`).
    expect(r.sim.settleS).toBe(0);
    expect(r.cutBefore).toBe("presses");
    expect(summary(r)).toContain(
      "STOPPED EARLY  the presses were stopped before they began: no press was made",
    );
    // No press, so no delivery in flight to count lost: the line says what the figures are.
    expect(summary(r)).toContain(
      "CUT SHORT      the run ended before its presses began: what it measured is the boot (registration)",
    );
  }, 60_000);

  it("the embedded broker's thread: the run ends there, the broker's death told as such", async () => {
    const run = await start();
    await waitPhase(run, "press");
    await brokerThread(run).terminate();
    const r = await run.done;
    expect(r.threadDied).toMatchObject({ thread: "broker", outOfMemory: false });
    expect(r.threadDied?.nodes).toBeUndefined();
    expect(r.cutShort).toBe(true);
    expect(summary(r)).toContain("THREAD DIED    the embedded broker's thread died");
  }, 60_000);
});

describe("the broker's thread out of memory", () => {
  it("is heard of with its cause; a thread closed on purpose is no death", async () => {
    // A heap far too small for the broker's modules: the thread dies loading them.
    const tiny = new BrokerThreadHost(undefined, pino({ level: "silent" }), { maxOldGenerationSizeMb: 2 });
    const died = new Promise<Error>((resolve) => tiny.onDied(resolve));
    const cause = threadCause(await died);
    expect(cause).toEqual({ reason: "out of memory: its JS heap reached its limit", outOfMemory: true });
    await tiny.close();
    const fine = new BrokerThreadHost(undefined, pino({ level: "silent" }));
    let heard = false;
    fine.onDied(() => {
      heard = true;
    });
    await fine.start();
    await fine.close();
    expect(heard).toBe(false);
  }, 30_000);

  it("tells which thread, when, why and what to do in one line", () => {
    const d = { thread: "worker-1", atS: 41.2, nodes: 5000, ...threadCause(new Error("x")) };
    expect(threadDeathLine(d)).toBe(
      "worker thread 1 (5000 nodes) died 41 s into the run, x: the run ended there",
    );
    const oom = Object.assign(
      new Error("Worker terminated due to reaching memory limit: JS heap out of memory"),
      {
        code: "ERR_WORKER_OUT_OF_MEMORY",
      },
    );
    // A worker thread refused a module's file as it loads, under a low `ulimit -n`.
    const files = Object.assign(
      new Error("EMFILE: too many open files, open '/opt/twinfleet/dist/node/profile.js'"),
      {
        code: "EMFILE",
      },
    );
    expect(threadDeathLine({ thread: "worker-1", atS: 0, nodes: 2, ...threadCause(files) })).toBe(
      "worker thread 1 (2 nodes) died 0 s into the run, EMFILE: too many open files, open '/opt/twinfleet/dist/node/profile.js'; the process's open-files limit is too low: raise it before starting (as root `ulimit -n`, LimitNOFILE= in a systemd unit, --ulimit nofile= for a container; docs/cli.md, \"The open files a command needs to start\"): the run ended there",
    );
    // Its code lost on the way from the thread: the message says it.
    expect(threadCause(new Error("EMFILE: too many open files, open '/x.js'")).reason).toContain(
      "open-files limit is too low",
    );
    expect(threadDeathLine({ thread: "broker", atS: 12, ...threadCause(oom) })).toBe(
      "the embedded broker's thread died 12 s into the run, out of memory: its JS heap reached its limit (give the process more heap: NODE_OPTIONS=--max-old-space-size=MB, or run fewer nodes): the run ended there",
    );
  });
});
