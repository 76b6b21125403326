/**
 * The wall-clock origin of the monotonic clock, found from the turns of the wall clock's millisecond:
 * to within the reading loop's step, and unmoved by a thread held off its core in one of the turns.
 */
import { expect, it } from "vitest";
import { wallOrigin } from "../wall-origin.js";

/** A host whose monotonic clock reads `t` at wall date `origin + t`; each read takes `step` ms. */
function host(origin: number, step: number, holdAtRead?: number, holdMs = 0) {
  let t = 3.7;
  let reads = 0;
  const tick = () => {
    t += step;
    reads++;
    if (reads === holdAtRead) t += holdMs; // the thread is held off its core here
  };
  return {
    date: () => {
      tick();
      return Math.floor(origin + t);
    },
    perf: () => {
      tick();
      return t;
    },
  };
}

it("finds the origin to within the reading loop's step", () => {
  const origin = 1_796_000_000_123.456;
  const h = host(origin, 0.001);
  expect(Math.abs(wallOrigin(h.date, h.perf) - origin)).toBeLessThan(0.005);
});

it("is not moved by a thread held off its core for 4 ms in one turn", () => {
  const origin = 1_796_000_000_123.456;
  // Held between a monotonic read and the wall read that sees the turn: that turn alone is 4 ms out.
  for (const at of [5, 600, 1401]) {
    const h = host(origin, 0.001, at, 4);
    expect(Math.abs(wallOrigin(h.date, h.perf) - origin)).toBeLessThan(0.005);
  }
  // One turn alone would take it as it came.
  const once = host(origin, 0.001, 400, 4);
  expect(Math.abs(wallOrigin(once.date, once.perf, 1) - origin)).toBeGreaterThan(0.5);
});
