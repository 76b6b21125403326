// For the history tests: a convergence report of `n` followers (n-0000 …), the first `inSync` of them
// in sync and the rest behind; and a service's feed kept in a history file, on a fake clock.
import type { Logger } from "pino";
import { FakeScheduler } from "../../node/scheduler.js";
import { NodeId } from "../../protocol/index.js";
import type { ConvergenceReport } from "../convergence.js";
import { ConvergenceFeed } from "../convergence-feed.js";
import { restoreHistory } from "../history-restore.js";
import { MINUTES_KEPT } from "../minute-tier.js";

export function followersReport(inSync: number, n = 4): ConvergenceReport {
  return {
    followers: Array.from({ length: n }, (_, i) => ({
      id: NodeId(`n-${String(i).padStart(4, "0")}`),
      status: i < inSync ? "in-sync" : "behind",
      stamp: undefined,
      target: undefined,
      waitingOn: [],
    })),
    inSync,
    known: n,
    fraction: inSync / n,
  };
}

/**
 * A service's convergence feed on the history file `file`, started at `at` on a fake clock whose dates
 * are `epochMs` ahead, 4 of 4 in sync: the feed, its clock, and `step` (a report with `inSync` of 4,
 * then `ms` go by, the flushes that fall in them written). `lost`: the broker lost at once, while the
 * start's rewrite of the file is under way.
 */
export async function keptFeed(
  file: string,
  o: {
    readonly at: number;
    readonly logger: Logger;
    readonly capacity?: number;
    readonly fleet?: string | undefined;
    readonly epochMs?: number;
    readonly minutesKept?: number;
    readonly lost?: boolean;
  },
) {
  const capacity = o.capacity ?? 16;
  const minutesKept = o.minutesKept ?? MINUTES_KEPT;
  const scheduler = new FakeScheduler(o.at, o.epochMs ?? 0);
  const history = await restoreHistory(file, capacity, scheduler, o.logger, o.fleet, minutesKept);
  let now = followersReport(4);
  const feed = new ConvergenceFeed({
    scheduler,
    everyMs: 100,
    capacity,
    minutesKept,
    compute: () => now,
    emit: () => {},
    kept: { history, logger: o.logger },
  });
  const step = async (inSync: number, ms: number) => {
    now = followersReport(inSync);
    feed.schedule();
    for (let left = ms; left > 0; left -= 1000) {
      scheduler.advance(Math.min(1000, left));
      await feed.historyWritten();
    }
  };
  if (o.lost) feed.broker(false, undefined, "lost");
  await feed.historyWritten();
  return { feed, step, scheduler };
}
