/**
 * A virtual run split over worker threads, cut short (SIGTERM, as a second Ctrl-C) in its presses:
 * its report says where it was cut and that its presses stopped early, as a one-thread run's does
 * (`cutBefore`, `stoppedEarlyS`, `sim.settleS` 0; docs/metrics.md). The split run's merge left them
 * out, and its summary read `the settle was stopped after 0.0 s` of a settle that never began.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { spawnCli } from "./spawned-sim.js";

const dir = mkdtempSync(join(tmpdir(), "tf-split-cut-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("a virtual run over worker threads, cut short", () => {
  it("reports where it was cut, as a one-thread run does", async () => {
    const report = join(dir, "r.json");
    const run = spawnCli([
      ...["sim", "--clock", "virtual", "--headless", "--workers", "2"],
      // Far more presses than a test could wait for: the run is surely pressing when it is cut.
      ...["--nodes", "40", "--rate", "60", "--duration", "86400", "--settle", "10"],
      ...["--progress-every", "60", "--seed", "cut", "--report", report],
    ]);
    try {
      await run.seen(/virtual time over 2 worker threads/);
      await run.seen(/press \]/);
      run.child.kill("SIGTERM");
      expect(await run.exited).toBe(130);
      expect(run.out()).toContain("CUT SHORT      the run ended in its presses, before its settle");
      expect(run.out()).toContain("STOPPED EARLY  the presses were stopped after");
      const r = JSON.parse(readFileSync(report, "utf8"));
      expect(r.cutShort).toBe(true);
      expect(r.cutBefore).toBe("settle");
      expect(r.stoppedEarlyS).toBeGreaterThan(0);
      expect(r.stoppedBeforePresses).toBeUndefined();
      expect(r.sim.settleS).toBe(0);
    } finally {
      run.child.kill("SIGKILL");
    }
  }, 90_000);
});
