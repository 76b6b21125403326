/** Waits on a running fleet's own clock: rechecks `cond` every 50 ms of it, for at most `ms`. */
import type { FleetRun } from "../run.js";

export async function until(run: FleetRun, what: string, cond: () => boolean, ms = 30_000): Promise<void> {
  const end = run.sched.now() + ms;
  while (!cond()) {
    if (run.sched.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise<void>((r) => run.sched.at(run.sched.now() + 50, r));
  }
}
