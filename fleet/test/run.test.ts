// Fleet runs: the metric definitions on small fleets with known answers (a chain, a cycle, a
// conflict, a partition that loses a delivery) on virtual time, where the run's logic is the same and
// no test waits on the wall clock; on the embedded broker with real sockets, the nodes in the
// broker's thread, and a run of a hundred nodes with every report key. The runs go side by side (each
// has its own broker and twins service): the real-time ones mostly wait on their clock.
import { describe, expect, it } from "vitest";
import { NodeId } from "../../protocol/index.js";
import type { FleetOptions } from "../options.js";
import type { Report } from "../report.js";
import { FleetRun, runFleet } from "../run.js";
import { limitForStarts } from "./start-limit.js";

function waitPhase(run: FleetRun, phase: string): Promise<void> {
  return new Promise((resolve) => {
    if (run.phase === phase) resolve();
    else run.on("phase", (p) => p === phase && resolve());
  });
}

/** Waits `ms` on the run's own clock (virtual time on a virtual run). */
function runFor(run: FleetRun, ms: number): Promise<void> {
  return new Promise((resolve) => run.sched.at(run.sched.now() + ms, resolve));
}

/** Rechecks `cond` every 20 ms of wall time (a real-time run's checker has no event to wait on). */
async function until(cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * A scripted run on virtual time (unless `raw` says otherwise): no random presses; `script` acts once
 * presses may start, then the run settles.
 */
async function scripted(raw: FleetOptions, script: (run: FleetRun) => Promise<void>): Promise<Report> {
  const run = await FleetRun.start({
    clock: "virtual",
    ratePerNodePerMin: 0,
    durationS: 600,
    settleS: 2,
    profile: "ideal",
    ...raw,
  });
  await waitPhase(run, "press");
  await script(run);
  run.stop();
  return run.done;
}

// Its six runs go at once, each starting a broker thread and its pool of nodes: a test's limit counts
// the others' starts beside its own.
describe.concurrent("fleet runs", { timeout: limitForStarts(6) }, () => {
  it("a press at the head of a chain reaches every node down the chain", async () => {
    const r = await scripted({ nodes: 3, topology: "chain", groupSize: 3 }, async (run) => {
      expect(run.press(NodeId("n-0000"))).toBe(true);
      await runFor(run, 1000);
    });
    expect(r).toMatchObject({ presses: 1, deliveries: 2, superseded: 0, lost: 0, diverged: 0 });
    expect(r.sync.maxMs).toBeLessThan(1000);
  });

  it("runs the nodes in the broker's thread with no worker threads, the same way", async () => {
    const r = await scripted(
      { nodes: 4, topology: "chain", groupSize: 4, workers: 0, clock: "real" },
      async (run) => {
        expect(run.press(NodeId("n-0000"))).toBe(true);
        await until(() => run.collector.checker.counts().deliveries >= 3);
      },
    );
    expect(r).toMatchObject({ presses: 1, deliveries: 3, superseded: 0, lost: 0, diverged: 0 });
    expect(r.sim.workers).toBe(0);
    expect(r.registration.registered).toBe(4);
  });

  it("a press in a cycle reaches the other members and stops", async () => {
    const r = await scripted({ nodes: 4, topology: "ring", groupSize: 4 }, async (run) => {
      run.press(NodeId("n-0002"));
      await runFor(run, 1000);
    });
    expect(r).toMatchObject({ presses: 1, deliveries: 3, lost: 0, diverged: 0 });
  });

  it("concurrent presses on a pair resolve to one state on both", async () => {
    const r = await scripted({ nodes: 2, topology: "pairs", groupSize: 2 }, async (run) => {
      run.press(NodeId("n-0000"));
      run.press(NodeId("n-0001"));
      await runFor(run, 1000);
    });
    expect(r).toMatchObject({ presses: 2, deliveries: 2, lost: 0, diverged: 0 });
  });

  it("a follower cut off for longer than 5 s loses the delivery, then converges", async () => {
    const r = await scripted(
      { nodes: 2, topology: "chain", groupSize: 2, profile: "uno-w5100" },
      async (run) => {
        run.cable(NodeId("n-0001"), true);
        await runFor(run, 200);
        run.press(NodeId("n-0000"));
        await runFor(run, 6000);
        run.cable(NodeId("n-0001"), false);
        await runFor(run, 8000);
      },
    );
    expect(r).toMatchObject({ presses: 1, deliveries: 0, lost: 1, diverged: 0 });
    expect(r.link.retransmissions).toBeGreaterThan(0);
  });

  it("runs a hundred nodes and writes every report key", async () => {
    const r = await runFleet({
      nodes: 100,
      durationS: 4,
      settleS: 2,
      ratePerNodePerMin: 20,
      workers: 2,
      groupSize: 5,
    });
    expect(Object.keys(r).sort()).toEqual(
      [
        "format",
        "scenario",
        "presses",
        "pressesIgnored",
        "deliveries",
        "superseded",
        "loss",
        "cutShort",
        "sync",
        "lost",
        "lostOutsideFaults",
        "late",
        "lostForGood",
        "lostWithPower",
        "regressions",
        "regressionList",
        "faults",
        "twinsView",
        "diverged",
        "divergedNodes",
        "registration",
        "cpu",
        "link",
        "sim",
        "requirements",
        "versions",
      ].sort(),
    );
    expect(Object.keys(r.scenario)).toEqual(
      expect.arrayContaining([
        "nodes",
        "profile",
        "topology",
        "ratePerNodePerMin",
        "lossPct",
        "seed",
        "durationS",
        "broker",
        "brokerKind",
        "brokerDurable",
        "twins",
      ]),
    );
    expect(Object.keys(r.sync)).toEqual(["p50Ms", "p90Ms", "p99Ms", "maxMs"]);
    expect(Object.keys(r.registration)).toEqual(expect.arrayContaining(["p50Ms", "maxMs", "allMs"]));
    expect(Object.keys(r.cpu)).toEqual(["meanPct", "p99Pct", "maxPct"]);
    expect(Object.keys(r.sim)).toEqual(
      expect.arrayContaining(["lagP99Ms", "lagMaxMs", "keptUp", "rssMB", "brokerRssMaxMB", "settleS"]),
    );
    expect(Object.keys(r.versions)).toEqual(["twinfleet", "node", "aedes", "mqtt"]);
    expect(r.registration.registered).toBe(100);
    expect(r.registration.allMs).toHaveLength(100);
    expect(r.presses).toBeGreaterThan(50);
    expect(r.deliveries).toBeGreaterThanOrEqual(r.presses * 4 - r.lost);
    expect(r.lost).toBe(0);
    expect(r).toMatchObject({ lostForGood: 0, late: 0, regressions: 0, faults: [] });
    expect(r.syncOutsideFaults).toBeUndefined();
    expect(r.scenario).toMatchObject({ brokerKind: "embedded", brokerDurable: false, twins: "own" });
    expect(r.twinsView).toEqual({ known: 100, online: 100, desiredAsPaired: 100, pairingConfirmed: 100 });
    expect(r.diverged).toBe(0);
    expect(r.cpu.meanPct).toBeGreaterThan(0);
    expect(r.versions.aedes).toMatch(/^1\./);
  });
});
