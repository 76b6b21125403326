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

it("takes the date between two reads again when a thread was held between them, and keeps the narrowest", async () => {
  const { datedZero } = await import("../scheduler.js");
  // A host whose date is ORIGIN + t; each read takes 0.001 ms; the thread is held 20 ms after the
  // first read. One try stated the date 10 ms out, within a 10 ms bound; the next try is clean.
  let t = 50;
  let reads = 0;
  const read = () => {
    t += 0.001;
    const v = t;
    if (++reads === 1) t += 20;
    return v;
  };
  const sched = {
    now: read,
    wallNow: () => ORIGIN + read(),
    wallBoundMs: () => 0.01,
    at: () => ({ cancel() {} }),
  };
  const zero = datedZero(sched);
  expect(zero.boundMs).toBeLessThan(0.02);
  expect(Math.abs(zero.dateMs - ORIGIN)).toBeLessThanOrEqual(zero.boundMs);
});
