/**
 * A press plan on a host that held its timers: every press planned before a stop that came due
 * after them is taken, in order, however late the host ran them.
 */
import { describe, expect, it } from "vitest";
import { runPressPlan } from "../presses.js";
import { FakeScheduler } from "../scheduler.js";

describe("a press plan whose timers a busy host held", () => {
  it("takes the presses planned before its stop, though the stop's timer came due before their turn", () => {
    const sched = new FakeScheduler();
    const taken: number[] = [];
    const plan = runPressPlan(
      { kind: "script", times: [3800, 3990, 4500] },
      sched,
      () => 0,
      (at) => taken.push(at),
    );
    // The run's end of presses at 4 s, as a shard sets it.
    sched.at(4000, () => plan.cancel());
    // The host ran nothing from 3.7 s to 4.005 s: the press due at 3.8 s ran then, late.
    sched.runUntil(3700);
    sched.jump(305);
    // Before, the press due at 3.99 s got a timer of its own, behind the stop (due at 4 s): cancelled.
    expect(taken).toEqual([3800, 3990]);
    sched.runUntil(10_000);
    expect(taken).toEqual([3800, 3990]);
  });

  it("keeps its timers on time when the host does", () => {
    const sched = new FakeScheduler();
    const taken: [number, number][] = [];
    runPressPlan(
      { kind: "burst", at: 100, count: 3, intervalMs: 50 },
      sched,
      () => 0,
      (at) => taken.push([at, sched.now()]),
    );
    sched.runUntil(1000);
    expect(taken).toEqual([
      [100, 100],
      [150, 150],
      [200, 200],
    ]);
  });
});
