/**
 * The progress line's offline and held figures: registered nodes offline show outside a fault too
 * (still reconnecting after one), and presses made offline are told while they are held.
 */
import { expect, it } from "vitest";
import type { Progress } from "../../fleet/progress.js";
import { progressLine } from "../sim-summary.js";

const base: Progress = {
  phase: "press",
  elapsedS: 30,
  nodes: 200,
  registered: 200,
  online: 200,
  away: 0,
  presses: 377,
  held: 0,
  deliveries: 2639,
  lost: 0,
  lostForGood: 0,
  p50Ms: 10.7,
  p99Ms: 27,
  lossPct: 0,
  lagP99Ms: 14,
  faults: 0,
};

it("names the nodes still offline after a fault has ended, and the presses they hold", () => {
  const line = progressLine({ ...base, online: 120, away: 80, held: 41 }, 0);
  expect(line).toContain(
    "registered 200/200  online 120/200  presses 377 (+41 held offline)  deliveries 2639",
  );
});

it("says nothing of either when every registered node is online and nothing is held", () => {
  const line = progressLine(base, 0);
  expect(line).not.toMatch(/online|held/);
  expect(line).toContain("registered 200/200  presses 377  deliveries");
});

it("leaves the online count out for nodes on their first sync and once the run is done, unless a fault or an outage is under way", () => {
  expect(progressLine({ ...base, phase: "boot", registered: 150, online: 140 }, 0)).not.toContain("online");
  expect(progressLine({ ...base, online: 198 }, 0)).not.toContain("online"); // registered, not synced yet
  expect(progressLine({ ...base, phase: "done", online: 0, away: 200 }, 0)).not.toContain("online");
  expect(progressLine({ ...base, phase: "boot", registered: 150, online: 0, brokerLostS: 3 }, 0)).toContain(
    "online 0/200",
  );
});

it("tells a virtual run's pace since the line before beside its pace since the start, so a run slowing down shows it", () => {
  // A simulated day whose closing of fault windows grew with the faults seen: 3600 s in 43 s of
  // wall time at its 23rd hour, while the mean since the start still read ×208.
  const before = { ...base, elapsedS: 79_200, virtual: { wallS: 356, speedup: 222.5 } };
  const now = { ...base, elapsedS: 82_800, virtual: { wallS: 399, speedup: 207.5 } };
  expect(progressLine(now, 0, before)).toContain("virtual ×208 real (399 s wall; ×84 over the last 3600 s)");
  // The first line has no line before; a paused run (no virtual time gone) tells no pace of its own.
  expect(progressLine(now, 0)).toContain("virtual ×208 real (399 s wall)");
  expect(progressLine({ ...now, elapsedS: 79_200 }, 0, before)).toMatch(/\(399 s wall\)$/);
});

it("keeps its column through a day's run and says the hours past the first", () => {
  const at = (elapsedS: number) => progressLine({ ...base, elapsedS }, 0);
  expect(at(30)).toMatch(/^\[ {3}30 s press \] {2}registered/);
  expect(at(3600)).toMatch(/^\[ 3600 s \( 1 h {2}0 min\) press \] {2}registered/);
  expect(at(10_800)).toMatch(/^\[10800 s \( 3 h {2}0 min\) press \] {2}registered/);
  expect(at(86_415)).toMatch(/^\[86415 s \(24 h {2}0 min\) press \] {2}registered/);
  // Past the first hour every line's figures start in one column.
  const column = (line: string) => line.indexOf("registered");
  expect(new Set([3600, 9000, 10_800, 45_000, 86_415].map((s) => column(at(s)))).size).toBe(1);
  expect(column(at(9999))).toBe(column(at(10_000)));
  // Before it, without the hours, as a run under an hour reads.
  expect(column(at(30))).toBe(column(at(3599)));
  expect(column(at(3599))).toBe(column(at(3600)) - " ( 1 h  0 min)".length);
});
