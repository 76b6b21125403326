// Whether the simulator kept up: its worst thread's lag p99 under 50 ms, and no stall of 5 s or more
// (a process stopped for 20 s kept its p99 at 19.7 ms and was called kept up).
import { expect, it } from "vitest";
import { KEPT_UP_STALL_MS, keptUp } from "../lag.js";

it("a long stall is not keeping up, however low the p99", () => {
  expect(keptUp({ p99Ms: 30.7, maxMs: 665.3 })).toBe(true);
  expect(keptUp({ p99Ms: 65, maxMs: 900 })).toBe(false);
  expect(keptUp({ p99Ms: 19.7, maxMs: 20_015.2 })).toBe(false);
  expect(keptUp({ p99Ms: 19.7, maxMs: KEPT_UP_STALL_MS - 1 })).toBe(true);
  expect(keptUp({ p99Ms: 19.7, maxMs: KEPT_UP_STALL_MS })).toBe(false);
  // Virtual time measures no lag.
  expect(keptUp({ p99Ms: 0, maxMs: 0 })).toBe(true);
});
