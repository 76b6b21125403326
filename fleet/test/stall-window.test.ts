// A run without faults keeps no record per pair (sim/checker.ts noFaultBefore). A stall of its own
// process is found only when it runs again, begun in the past: the press in flight when it stopped is
// delivered after it, and must still be there for the stall's figures (fleet/window-close.ts).
import { EventEmitter } from "node:events";
import { expect, it } from "vitest";
import { every, FakeScheduler } from "../../node/scheduler.js";
import { StallWatch } from "../../node/stall-watch.js";
import { NodeId, type Stamp } from "../../protocol/index.js";
import { NodeTimeline } from "../../sim/recovery.js";
import { followersReach } from "../../sim/topology.js";
import { BrokerOutages } from "../broker-outages.js";
import { Collector, REORDER_WINDOW_MS } from "../collector.js";
import { stallReports } from "../stall-report.js";
import { WindowCloser } from "../window-close.js";

const [A, B] = [NodeId("A"), NodeId("B")];
const st = (counter: number, origin: NodeId): Stamp => ({ counter, origin });

it("keeps the pair of a press in flight when the process stopped, and the stall reports it late", () => {
  const sched = new FakeScheduler(0);
  const watch = new StallWatch(sched);
  const outages = new BrokerOutages(new EventEmitter(), () => sched.now(), undefined, watch);
  const pairing = new Map([[A, [B]]]);
  const collector = new Collector(pairing);
  const closer = new WindowCloser(collector, [A, B], { records: [], inProgress: 0 }, outages);
  // The run's 100 ms step, as fleet/run.ts has it.
  every(sched, 100, () => closer.advance(sched.now(), REORDER_WINDOW_MS));
  // A press delivered at once, then one whose delivery the stop holds up.
  collector.push([{ type: "press", node: A, at: 1_000, ledAt: 1_000, stamp: st(1, A) }]);
  collector.push([{ type: "applied", node: B, at: 1_010, stamp: st(1, A), on: true, via: "report" }]);
  sched.advance(9_000);
  collector.push([{ type: "press", node: A, at: sched.now(), ledAt: sched.now(), stamp: st(2, A) }]);
  sched.advance(150);
  sched.jump(20_000); // the process stopped: every timer due meanwhile runs now, late
  const resumed = sched.now();
  sched.advance(5);
  collector.push([{ type: "applied", node: B, at: resumed + 5, stamp: st(2, A), on: true, via: "report" }]);
  sched.advance(10_000);
  collector.finish();
  const c = collector.checker;
  expect(c.counts().late).toBe(1);
  const stalls = outages.stalls().all;
  expect(stalls).toHaveLength(1);
  const [r] = stallReports(
    stalls,
    [],
    [],
    {
      fleet: [A, B],
      reach: followersReach(pairing),
      timeline: new NodeTimeline(),
      pairs: c.pairs(),
      slow: c.slow,
      pressTimes: c.pressTimes,
      endMs: sched.now(),
    },
    0,
  );
  expect(r?.lateBeyond5s).toBe(1);
  expect(r?.pressesDuring).toBe(0);
});
