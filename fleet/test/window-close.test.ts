/**
 * A long run after a fault keeps only what settled in its last minute or so, not every (press,
 * follower) pair since the fault (fleet/window-close.ts), and reports what it did when it kept them
 * all. Before, a run kept from its first fault to its end each pair's press time and latency, the
 * slow pairs and the press times: 13-20 MB an hour at 1,000 nodes.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import type { FleetOptions } from "../../fleet/options.js";
import type { Report } from "../../fleet/report.js";
import { FleetRun } from "../../fleet/run.js";
import { SyncChecker } from "../../sim/checker.js";
import { loadFaultSchedule } from "../faults/schedule.js";

const fleet: FleetOptions = {
  clock: "virtual",
  nodes: 24,
  topology: "random",
  groupSize: 8,
  ratePerNodePerMin: 30,
  durationS: 150,
  settleS: 5,
  lossPct: 2,
  seed: "close",
};
const FIRST = "broker-restart@10,power-outage@30";

/** The options with `spec`'s faults, as `--faults` gives them. */
function withFaults(spec: string, durationS: number): FleetOptions {
  return { ...fleet, durationS, faults: loadFaultSchedule(spec), faultsSpec: spec };
}

interface Kept {
  readonly pairs: number;
  readonly slow: number;
  readonly pressTimes: number;
}

/** The run's report, and what its checker kept once the presses stopped (before the run's end adds the lost ones). */
async function run(opts: FleetOptions): Promise<{ r: Report; kept: Kept }> {
  const fleetRun = await FleetRun.start(opts);
  let kept: Kept | undefined;
  fleetRun.on("phase", (p) => {
    if (p !== "settle") return;
    const c = fleetRun.collector.checker;
    kept = { pairs: c.pairs().pressAt.length, slow: c.slow.length, pressTimes: c.pressTimes.length };
  });
  const r = await fleetRun.done;
  if (kept === undefined) throw new Error("the run never settled");
  return { r, kept };
}

/** The report without what depends on the host (wall time, memory, lag). */
function figures(r: Report): unknown {
  const { wallS, rssMB, lagP99Ms, lagMaxMs, ...sim } = r.sim;
  return { ...r, sim, versions: undefined };
}

afterEach(() => {
  vi.restoreAllMocks();
});

// Each case runs two to four virtual runs of hundreds of seconds, CPU-bound: 4-8 s on a quiet host,
// over 30 s on a busy one.
describe("a long run after a fault", { timeout: 120_000 }, () => {
  it("keeps records of its last minute or so, however long it runs", async () => {
    const short = await run(withFaults(FIRST, 150));
    const long = await run(withFaults(FIRST, 450));
    expect(long.r.presses).toBeGreaterThan(2.5 * short.r.presses);
    expect(long.r.deliveries).toBeGreaterThan(2.5 * short.r.deliveries);
    // Before: 10,809 pairs and 1,756 press times kept after 150 s, 33,802 and 5,184 after 450 s
    // (of 11,797 and 34,813 deliveries); now 5,791 and 896, then 5,080 and 797.
    expect(long.kept.pairs).toBeLessThan(1.3 * short.kept.pairs);
    expect(long.kept.pressTimes).toBeLessThan(1.3 * short.kept.pressTimes);
    expect(long.kept.slow).toBeLessThanOrEqual(short.kept.slow + 20);
    expect(long.kept.pairs).toBeLessThan(long.r.deliveries / 4);
  });

  it("reports what it did when it kept every pair until its end", async () => {
    for (const spec of [FIRST, "twins-restart@20,partition@40,broker-restart@120,loss-burst@200"]) {
      const opts = withFaults(spec, 400);
      const bounded = await run(opts);
      const settle = vi.spyOn(SyncChecker.prototype, "settleBefore").mockImplementation(() => {});
      const all = await run(opts);
      expect(settle).toHaveBeenCalled();
      settle.mockRestore();
      expect(all.kept.pairs).toBeGreaterThan(2 * bounded.kept.pairs);
      expect(bounded.r.syncOutsideFaults?.count).toBeGreaterThan(1000);
      expect(figures(bounded.r)).toEqual(figures(all.r));
    }
  });
});
