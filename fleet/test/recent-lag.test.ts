// The event-loop lag a run's /metrics serves is the lag now: each worker's and the broker thread's
// p99 over their last report, the main thread's since the previous read. The lag since each thread
// started stays the report's (byThread, threads): it is what the kept-up verdict judges.
import { expect, it } from "vitest";
import { LagMonitor } from "../lag.js";

it("serves each worker's and the broker's lag since its last report, beside the lag since it started", () => {
  let broker = { p99Ms: 12, maxMs: 40, recentP99Ms: 130 };
  const m = new LagMonitor({ broker: () => broker });
  // A minute of 100 ms stalls after an hour of 10 ms: the p99 since the start barely moves.
  m.worker(0, 11, 900, 120);
  m.worker(1, 10, 30, 9);
  const now = m.recentByThread();
  expect(now["worker-0"]).toBe(120);
  expect(now["worker-1"]).toBe(9);
  expect(now.broker).toBe(130);
  expect(m.byThread()).toMatchObject({ "worker-0": 11, "worker-1": 10, broker: 12 });
  // The stalls over: the next reports say so at once.
  m.worker(0, 11.2, 900, 8);
  broker = { p99Ms: 12.1, maxMs: 40, recentP99Ms: 7 };
  expect(m.recentByThread()).toMatchObject({ "worker-0": 8, broker: 7 });
  // The report's figures hold no recent ones.
  expect(m.threads().broker).toEqual({ p99Ms: 12.1, maxMs: 40 });
  m.stop();
});

it("serves the main thread's lag since the previous read", () => {
  const windows = [250, 6];
  const m = new LagMonitor({}, { takeP99Ms: () => windows.shift() ?? 0, stop: () => {} });
  m.worker(0, 10, 20, 5);
  expect(m.recentByThread()).toEqual({ main: 250, "worker-0": 5 });
  expect(m.recentByThread().main).toBe(6);
  m.stop();
});
