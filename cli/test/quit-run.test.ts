/**
 * Ending a real two-node run the way a user does: through the console source, the first quit stops
 * the presses and the settle counts down; cut() then ends it at once with a report marked cut short.
 * And the loss set during a run (on virtual time) — from the console, then back to 0 by the settle —
 * is in the report and the summary as it changed, not just where it started.
 */
import { describe, expect, it } from "vitest";
import type { FleetOptions } from "../../fleet/options.js";
import { FleetRun, type RunPhase } from "../../fleet/run.js";
import { SimSource } from "../../view/sim-source.js";
import { CUT_SHORT_EXIT } from "../commands/sim.js";
import { summary } from "../sim-summary.js";

function start(raw: FleetOptions): Promise<FleetRun> {
  return FleetRun.start({
    nodes: 2,
    topology: "pairs",
    groupSize: 2,
    ratePerNodePerMin: 0,
    durationS: 600,
    settleS: 1,
    workers: 1,
    profile: "ideal",
    ...raw,
  });
}

function phase(run: FleetRun, p: RunPhase): Promise<void> {
  return new Promise((resolve) => {
    if (run.phase === p) resolve();
    else run.on("phase", (q) => q === p && resolve());
  });
}

describe("quitting a run", () => {
  it("settles with a countdown after the first quit, and cut() ends it at once, marked cut short", async () => {
    const run = await start({ settleS: 60 });
    const source = new SimSource(run);
    try {
      await phase(run, "press");
      expect(source.ending()).toBe("stopping the presses");
      expect(run.settleStatus()).toBeUndefined();
      const settling = phase(run, "settle");
      expect(source.quit()).toBe(true);
      expect(run.stopping).toBe(true);
      await settling;
      const status = run.settleStatus();
      expect(status).toBeDefined();
      const left = ((status?.minUntil ?? 0) - performance.now()) / 1000;
      expect(left).toBeGreaterThan(55);
      expect(left).toBeLessThanOrEqual(60);
      // After a quit the settle is --settle, no longer: nothing extends it.
      expect(status?.maxUntil).toBe(status?.minUntil);
      expect(source.ending()).toMatch(/^settling: (60|59|58|57|56) s left/);
      expect(run.progress().settle).toEqual(run.settleStatus());

      const cutAt = performance.now();
      run.cut();
      const report = await run.done;
      expect(performance.now() - cutAt).toBeLessThan(10_000);
      expect(report.cutShort).toBe(true);
      expect(report.sim.settleS).toBeLessThan(30);
      expect(report.registration.registered).toBe(2);
      expect(summary(report)).toContain("CUT SHORT      the settle was stopped after");
      expect(CUT_SHORT_EXIT).toBe(130);
      expect(source.quit()).toBe(false); // done: nothing left to finish
    } finally {
      source.close();
      run.cut();
      await run.done.catch(() => {});
    }
  }, 60_000);

  it("reports the loss as it was set during the run, with when and by what", async () => {
    // On virtual time: the loss log is the run's logic; 400 ms pass on the run's own clock.
    const run = await start({ lossPct: 0, clock: "virtual", workers: undefined });
    const wait = () => new Promise<void>((r) => run.sched.at(run.sched.now() + 400, r));
    await phase(run, "press");
    run.setLoss(10);
    await wait();
    run.setLoss(20);
    await wait();
    run.setLoss(20); // the same value again is no change
    run.stop();
    const report = await run.done;
    expect(report.cutShort).toBe(false);
    expect(report.scenario.lossPct).toBe(0);
    expect(report.loss.startPct).toBe(0);
    expect(report.loss.changes.map((c) => [c.pct, c.by])).toEqual([
      [10, "console"],
      [20, "console"],
      [0, "settle"],
    ]);
    const [a, b, c] = report.loss.changes.map((x) => x.atMs);
    expect(a).toBeGreaterThanOrEqual(-250); // the presses start 200 ms after the phase does
    expect(b).toBeGreaterThanOrEqual((a ?? 0) + 350);
    expect(c).toBeGreaterThanOrEqual((b ?? 0) + 350);
    expect(report.loss.meanDuringPressesPct).toBeGreaterThan(10);
    expect(report.loss.meanDuringPressesPct).toBeLessThan(20);
    expect(summary(report)).toMatch(
      /2 nodes \(ideal\), pairs, loss 0% → 10% at -?[\d.]+ s \(console\) → 20% at [\d.]+ s \(console\) → 0% at [\d.]+ s \(settle\); mean [\d.]+% during the presses, 0 presses/,
    );
    expect(summary(report)).not.toContain("CUT SHORT");
  }, 60_000);
});
