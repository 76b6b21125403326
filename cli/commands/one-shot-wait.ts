/**
 * A one-shot command's waits (`set`, `pair`, `unpair`, `forget`, `nodes`: its connection, the
 * broker's replay, a node's confirmation) on the command's own clock, told when the command itself did
 * not run (stopped with Ctrl-Z or SIGSTOP, its VM paused: node/stall-watch.ts). Node runs the timers
 * that came due during such a stall before it reads the sockets, so a wait ran out with its answer
 * waiting unread in the kernel: a set the node had confirmed was printed `"confirmed": false`, a
 * connection the broker had accepted failed as `no answer`, exit 1. Here a wait is judged once the
 * I/O ready when it runs out is handled, and given once more when it ran out in or just after a stall:
 * the rule the broker's own deadlines follow (broker/ready-io.ts).
 */
import { NEVER_STALLED, readyIoJudge, stalledBy } from "../../broker/ready-io.js";
import { after, type Scheduler } from "../../node/scheduler.js";
import { type StallWatch, stallSeconds, stallWatchOf } from "../../node/stall-watch.js";
import { BrokerConnectError, wallScheduler } from "../../twins/index.js";

/** The clock a one-shot command waits on, and its stall watch (none on a fake scheduler without one). */
export interface OneShotClock {
  readonly scheduler: Scheduler;
  readonly stalls: StallWatch | undefined;
}

/** The host's clock (the twins service's default) and the process's own stall watch. */
export function hostClock(): OneShotClock {
  return { scheduler: wallScheduler, stalls: stallWatchOf(wallScheduler) };
}

/** What a wait listens to: the short-lived twins service's updates. */
export interface Updates {
  on(event: "twin-updated", fn: () => void): unknown;
  off(event: "twin-updated", fn: () => void): unknown;
}

/** A command's wait for `cond`, up to `ms` (at least `least`, default 1 s): whether it held. */
export type Until = (cond: () => boolean, ms: number, least?: number) => Promise<boolean>;

/**
 * Waits for `cond` on `updates`, up to `ms` (at least `least`); resolves whether it held. Run out, it
 * looks again after the ready I/O; run out in the command's own stall, it waits `ms` once more.
 */
export function settle(
  clock: OneShotClock,
  updates: Updates,
  cond: () => boolean,
  ms: number,
  least = 1000,
): Promise<boolean> {
  if (cond()) return Promise.resolve(true);
  const { scheduler, stalls } = clock;
  const period = Math.max(ms, least);
  // The broker's rule for its deadlines (broker/ready-io.ts): judged after the ready I/O, given once
  // more when it ran out in a stall.
  const judge = readyIoJudge(stalls === undefined ? NEVER_STALLED : stalledBy(stalls, () => scheduler.now()));
  return new Promise((resolve) => {
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      timer.cancel();
      updates.off("twin-updated", check);
      resolve(ok);
    };
    const check = () => {
      if (cond()) finish(true);
    };
    const ranOut = () =>
      judge({
        due: () => !done,
        // What came in the socket meanwhile has been read: the answer, if it is there.
        heard: cond,
        extend: (why) => {
          if (why === "heard") finish(true);
          else timer = after(scheduler, period, ranOut);
        },
        expire: () => finish(false),
      });
    let timer = after(scheduler, period, ranOut);
    updates.on("twin-updated", check);
  });
}

/**
 * Connects with `start`, once more when the first attempt failed in the command's own stall (its
 * timer ran out while it did not run, `BrokerConnectError.stall`), saying so with `warn`.
 */
export async function connectOnce<T>(start: () => Promise<T>, warn: (msg: string) => void): Promise<T> {
  try {
    return await start();
  } catch (err) {
    if (!(err instanceof BrokerConnectError) || err.stall === undefined) throw err;
    warn(
      `the command did not run for ${stallSeconds(err.stall)} s while it connected (its host stopped or paused it: its own stall, not the broker's): connecting again`,
    );
    return start();
  }
}
