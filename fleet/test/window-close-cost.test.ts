// A long run with faults all through it closes each fault's window once (fleet/window-close.ts):
// a later attempt works out only the faults begun since, and does not look again at the slow pairs a
// closed window keeps. Each attempt (every 10 s of the run's clock) used to analyse every fault of
// the run so far and scan every slow pair kept for them: a simulated day with a fault an hour spent
// 5-6 CPU s per simulated hour at first and 26 by its 21st hour, and a fault every 5 min made the
// closing two thirds of the run's CPU by its 4th hour.
import { EventEmitter } from "node:events";
import { expect, it } from "vitest";
import { every, FakeScheduler } from "../../node/scheduler.js";
import { NodeId, type Stamp } from "../../protocol/index.js";
import { analyzeFaults, type FaultOutcome } from "../../sim/recovery.js";
import { followersReach } from "../../sim/topology.js";
import { BrokerOutages } from "../broker-outages.js";
import { Collector, REORDER_WINDOW_MS } from "../collector.js";
import type { FaultRecord } from "../faults/runner.js";
import { WindowCloser } from "../window-close.js";

const [A, B] = [NodeId("A"), NodeId("B")];
const PERIOD_MS = 300_000;

interface Outcome {
  /** Lookups of a node's disconnects in the timeline while the run went on (the analysis reads them per node and fault). */
  readonly lookups: number;
  /** Reads of the slow pairs kept before the run's last quarter, during that quarter. */
  readonly oldSlowReads: number;
  readonly outcomes: readonly FaultOutcome[];
  readonly slowKept: number;
}

/**
 * `faults` partitions of A, one every 5 min, each 10 s: a press made in it reaches B 11 s later (a
 * slow pair, late), and presses between them reach B at once. Run on a fake clock with the run's
 * 100 ms step, as fleet/run.ts has it.
 */
function run(faults: number, settle = true): Outcome {
  const sched = new FakeScheduler(0);
  const outages = new BrokerOutages(new EventEmitter(), () => sched.now());
  const pairing = new Map([[A, [B]]]);
  const collector = new Collector(pairing);
  const checker = collector.checker;
  if (!settle) checker.settleBefore = () => {};
  const records: FaultRecord[] = [];
  const state = { records, inProgress: 0 };
  const closer = new WindowCloser(collector, [A, B], state, outages);
  every(sched, 100, () => closer.advance(sched.now(), REORDER_WINDOW_MS));
  let lookups = 0;
  const disconnects = collector.timeline.disconnects;
  const get = disconnects.get.bind(disconnects);
  disconnects.get = (node) => {
    lookups++;
    return get(node);
  };
  let oldSlowReads = 0;
  let counter = 0;
  const press = (at: number, latency: number) => {
    const stamp: Stamp = { counter: ++counter, origin: A };
    const on = counter % 2 === 1;
    sched.at(at, () => collector.push([{ type: "press", node: A, at, ledAt: at, stamp }]));
    sched.at(at + latency, () =>
      collector.push([{ type: "applied", node: B, at: at + latency, stamp, on, via: "report" }]),
    );
  };
  for (let k = 1; k <= faults; k++) {
    const start = k * PERIOD_MS;
    const record: FaultRecord = {
      kind: "partition",
      index: k - 1,
      atS: start / 1000,
      startMs: start,
      endMs: start + 10_000,
      nodes: [A],
    };
    sched.at(start, () => {
      state.inProgress++;
      collector.timeline.disconnected(A, start);
    });
    sched.at(start + 10_000, () => {
      state.inProgress--;
      records.push(record);
    });
    sched.at(start + 10_500, () => collector.timeline.registered(A, start + 10_500));
    press(start + 1_000, 11_000);
    for (let t = start + 60_000; t < start + PERIOD_MS; t += 20_000) press(t, 15);
  }
  const end = (faults + 1) * PERIOD_MS;
  const lastQuarter = Math.floor((3 * faults) / 4) * PERIOD_MS;
  sched.advance(lastQuarter);
  // From here on, count what reads the slow pairs kept so far.
  for (const [i, p] of checker.slow.entries()) {
    checker.slow[i] = new Proxy(p, {
      get: (o, key) => {
        oldSlowReads++;
        return Reflect.get(o, key);
      },
    });
  }
  sched.advance(end - lastQuarter);
  const reads = oldSlowReads;
  const counted = lookups;
  collector.finish();
  const { outcomes } = analyzeFaults({
    faults: records,
    fleet: [A, B],
    reach: followersReach(pairing),
    timeline: collector.timeline,
    pairs: checker.pairs(),
    slow: checker.slow,
    pressTimes: checker.pressTimes,
    early: checker.early(),
    endMs: end,
  });
  return { lookups: counted, oldSlowReads: reads, outcomes, slowKept: checker.slow.length };
}

it("works out each fault's window about once, however many came before it", () => {
  const short = run(24);
  const long = run(96);
  // Four times the faults, about four times the work (it was 16 times: every fault at every attempt).
  expect(long.lookups).toBeLessThan(6 * short.lookups);
  expect(long.lookups).toBeLessThan(40 * 96);
  expect(long.oldSlowReads).toBe(0);
  // What the report says of each fault is what the run says when it keeps everything to its end.
  expect(long.outcomes).toHaveLength(96);
  expect(long.outcomes.every((o) => o.lateBeyond5s === 1 && o.recoveryMs !== null)).toBe(true);
  const all = run(96, false);
  expect(long.outcomes).toEqual(all.outcomes);
  expect(long.slowKept).toBe(96);
});
