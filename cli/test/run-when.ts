/** A wait on a fleet run's own clock, and a quiet run to drive, for the tests over real sockets. */
import { FleetRun } from "../../fleet/run.js";

/** Resolves once `cond` holds, rechecked every 50 ms of the run's clock. */
export function when(run: FleetRun, cond: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = () => (cond() ? resolve() : run.sched.at(run.sched.now() + 50, check));
    check();
  });
}

/**
 * A run of `nodes` nodes in rings of 4 on `broker` that presses nothing by itself (the test presses),
 * for 30 s at most, resolved once its nodes are synced and presses count.
 */
export async function quietRun(broker: string, nodes: number): Promise<FleetRun> {
  const run = await FleetRun.start({
    broker,
    nodes,
    topology: "ring",
    groupSize: 4,
    ratePerNodePerMin: 0,
    durationS: 30,
    settleS: 1,
    workers: 1,
    profile: "ideal",
  });
  await when(run, () => run.phase === "press");
  return run;
}
