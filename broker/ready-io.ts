/**
 * A deadline judged after the I/O that is ready when it comes due, and given again, once, when it
 * came due while the broker itself did not run. Node runs the timers that came due before it polls the
 * sockets: after the process did not run for a while (SIGSTOP, a VM paused for migration, a swapping
 * host, a long GC pause), every deadline that passed meanwhile fired before the connections and
 * packets waiting in the kernel were taken, and judged peers silent that had answered in time. And
 * the peers frozen with it (the nodes of a `sim` beside its embedded broker, a twins service in the
 * same paused VM) sent nothing meanwhile: they send when they run again, a moment after the broker,
 * and their silence was the broker's own stall. Aedes's keepalive check is patched to the same order
 * and asks the same stall watch (patches/aedes+1.2.0.patch).
 */
import { RealScheduler, type Scheduler } from "../node/scheduler.js";
import { type Stall, type StallWatch, stallWatchOf } from "../node/stall-watch.js";

export interface Deadline {
  /** False when what it waited for was handled meanwhile (a CONNECT read): nothing more to do. */
  readonly due: () => boolean;
  /** True when the ready I/O shows the peers are not silent (bytes or connections not handled yet). */
  readonly heard: () => boolean;
  /**
   * Called instead of `expire` when `heard`, or when the deadline came due while the broker did not
   * run (`stalled`): the deadline is extended.
   */
  readonly extend: (why: "heard" | "stalled") => void;
  readonly expire: () => void;
}

/**
 * The stall of the broker's process that explains this moment (node/stall-watch.ts): one it is in,
 * or one that ended at most STALL_AFTERMATH_MS (3 s) ago. A deadline that comes due then came due
 * while the broker did not watch its peers, or fires in the first moments after it, before the peers
 * frozen with it (a `sim`'s nodes, threads of the same process under load) have run again.
 */
export type JustStalled = () => Stall | undefined;

/** Never stalled: a broker without a watch (on virtual time, or in a test of the ready I/O alone). */
export const NEVER_STALLED: JustStalled = () => undefined;

/** The stall sense of `watch`, on its scheduler's clock `now`. */
export function stalledBy(watch: StallWatch, now: () => number): JustStalled {
  return () => watch.explaining(now());
}

/**
 * The stall sense of a broker on `scheduler` (node/stall-watch.ts: a tick every 250 ms, a stall when
 * one runs 2 s or more late); none on virtual time. The watch's timer is unref'd and held weakly: it
 * ends with the broker, nothing to stop.
 */
export function brokerStalls(scheduler: Scheduler = new RealScheduler()): JustStalled {
  const watch = stallWatchOf(scheduler);
  return watch === undefined ? NEVER_STALLED : stalledBy(watch, () => scheduler.now());
}

/**
 * The judge of one deadline (its successive timers): called when a timer fires, it judges the
 * deadline once the I/O that is ready now is handled, and extends it when the timer fired in or just
 * after a stall of the broker, once per stall (a short deadline given again must not be given again
 * and again within the same stall's aftermath).
 */
export function readyIoJudge(stalled: JustStalled = NEVER_STALLED): (deadline: Deadline) => void {
  let excused: Stall | undefined;
  return (deadline) => {
    // Asked as the timer fires: after a stall, that is in its first turns.
    const stall = stalled();
    setImmediate(() => {
      if (!deadline.due()) return;
      if (deadline.heard()) {
        deadline.extend("heard");
      } else if (stall !== undefined && stall !== excused) {
        excused = stall;
        deadline.extend("stalled");
      } else {
        deadline.expire();
      }
    });
  };
}
