/** A wait on a fleet run's own clock, for the tests that drive a run over real sockets. */
import type { FleetRun } from "../../fleet/run.js";

/** Resolves once `cond` holds, rechecked every 50 ms of the run's clock. */
export function when(run: FleetRun, cond: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = () => (cond() ? resolve() : run.sched.at(run.sched.now() + 50, check));
    check();
  });
}
