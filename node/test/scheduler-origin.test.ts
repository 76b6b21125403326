// The date a RealScheduler's time counts from (node/scheduler.ts): the thread's date origin is found
// when the first scheduler is made, not lazily inside a `wallNow()`. Found there, its search (a
// millisecond, tens on a loaded host) fell between a caller's `now()` and `wallNow()`, and a shard's
// clock taken as `wallNow() - now()` came out late by it. The search is replaced by one that takes
// 5 ms of a fake monotonic clock; the host's date follows that clock exactly.
import { afterEach, expect, it, vi } from "vitest";

const ORIGIN = 1_796_000_000_000;
let perf = 100;

vi.mock("../wall-origin.js", () => ({
  wallOrigin: () => {
    perf += 5; // the search's spin
    return { origin: ORIGIN, uncertaintyMs: 0.01 };
  },
}));

afterEach(() => {
  vi.restoreAllMocks();
});

it("finds the date origin when a scheduler is made, so wallNow() - now() is the origin itself", async () => {
  vi.spyOn(performance, "now").mockImplementation(() => perf);
  vi.spyOn(Date, "now").mockImplementation(() => Math.floor(ORIGIN + perf));
  const { datedZero, RealScheduler } = await import("../scheduler.js");
  const s = new RealScheduler();
  const began = s.now();
  expect(s.wallNow() - began).toBe(ORIGIN);
  expect(s.wallBoundMs()).toBe(0.01);
  expect(datedZero(s)).toEqual({ dateMs: ORIGIN, boundMs: 0.01 });
});
