// A run whose own process did not run for a while (SIGSTOP, a paused VM) loses its connection to the
// broker on its own timers: that is its stall, not an outage of the broker (docs/scale.md).
import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { StallWatch } from "../../node/stall-watch.js";
import { BrokerOutages } from "../broker-outages.js";

function run() {
  const sched = new FakeScheduler(0);
  const twins = new EventEmitter();
  const watch = new StallWatch(sched);
  const outages = new BrokerOutages(twins, () => sched.now(), twins, watch);
  return { sched, twins, watch, outages };
}

describe("BrokerOutages beside the run's own stall", () => {
  it("does not count a loss told on resume and back soon after as the broker's", () => {
    const { sched, twins, outages } = run();
    sched.advance(31_000);
    // The service's keepalive, due during the stop, runs first when the process runs again.
    sched.at(40_000, () => twins.emit("broker", false, 30_500));
    sched.jump(20_000);
    sched.advance(1_300);
    twins.emit("broker", true);
    sched.advance(10_000);
    expect(outages.list(sched.now())).toEqual([]);
    const { all, brokerLost } = outages.stalls();
    expect(all).toHaveLength(1);
    expect(brokerLost).toEqual(all);
    // Still an excuse for what the nodes did then.
    expect(outages.near(45_000, 0)).toBe(true);
  });

  it("counts a loss in the stall as the broker's when it came back without the nodes' reports", () => {
    const { sched, twins, outages } = run();
    sched.advance(31_000);
    // The run's process was held 2.5 s (a busy host) as the broker was restarted empty.
    sched.at(33_500, () => twins.emit("broker", false, 31_200));
    sched.jump(2_500);
    sched.advance(1_500);
    twins.emit("broker", true);
    sched.advance(500);
    twins.emit("put-back", 3);
    // Before, it was the stall's, and the reports the broker lost were in no outage of the report.
    expect(outages.list(sched.now())).toEqual([
      { startMs: 31_200, endMs: 35_000, back: true, retainedLost: 3 },
    ]);
    expect(outages.stalls().brokerLost).toEqual([]);
    expect(outages.stalls().all).toHaveLength(1);
  });

  it("counts the loss as the broker's when it lasts well after the stall", () => {
    const { sched, twins, outages } = run();
    sched.advance(31_000);
    sched.at(40_000, () => twins.emit("broker", false, 30_500));
    sched.jump(20_000);
    sched.advance(30_000); // the broker was away too
    twins.emit("broker", true);
    expect(outages.list(sched.now())).toEqual([{ startMs: 30_500, endMs: 81_000, back: true }]);
    expect(outages.stalls().brokerLost).toEqual([]);
  });

  it("tells only the stalls since the run began: a sweep's next point shares the watch of its scheduler", () => {
    const sched = new FakeScheduler(0);
    const watch = new StallWatch(sched);
    const first = new BrokerOutages(new EventEmitter(), () => sched.now(), undefined, watch);
    sched.advance(5_000);
    sched.jump(4_800); // the process stopped during the first point
    sched.advance(5_000);
    expect(first.stalls().all).toHaveLength(1);
    // The next point: a run of its own on the same scheduler and watch, with no stall of its own.
    const next = new BrokerOutages(new EventEmitter(), () => sched.now(), undefined, watch);
    sched.advance(10_000);
    expect(next.stalls().all).toEqual([]);
    expect(first.stalls().all).toHaveLength(1);
  });

  it("counts a loss long after a stall as the broker's", () => {
    const { sched, twins, outages } = run();
    sched.advance(31_000);
    sched.jump(20_000);
    sched.advance(20_000);
    twins.emit("broker", false);
    sched.advance(1_000);
    twins.emit("broker", true);
    expect(outages.list(sched.now())).toEqual([{ startMs: 71_000, endMs: 72_000, back: true }]);
  });
});
