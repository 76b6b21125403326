/**
 * The start's wait for its data directory, told: opening the store writes and syncs its lock
 * (store-lock.ts), and on a frozen or hung file system (fsfreeze, a hung disk or network volume)
 * that write does not end. The service sat without a line, a web server or a broker connection
 * until the disk answered; it now says so after `SAVE_STALLED_MS`, again every `STOP_WAIT_LOG_MS`
 * (each at that age: node/wait-told.ts),
 * and once the directory answers, how long it took, and whether the service starts: a stop asked for
 * meanwhile (twins/stop-wait.ts) starts nothing, where the line said "the service starts" just before
 * the one saying it stops without starting.
 */
import type { Logger } from "pino";
import { WaitTold } from "../node/wait-told.js";
import { DISK_NOT_ANSWERING, wholeSeconds } from "../node/writes-under-way.js";
import { shownPath } from "../protocol/shown.js";
import type { Scheduler } from "./clock.js";
import { SAVE_STALLED_MS } from "./desire-saver.js";
import { type OpeningWatch, STOP_WAIT_LOG_MS } from "./stop-wait.js";

/**
 * `opening` (the store of `dir` opening), told while it has run `SAVE_STALLED_MS` or more; and to
 * `watch` (twins/stop-wait.ts: a stop asked for meanwhile says what it waits for).
 */
export async function openingTold<T>(
  opening: Promise<T>,
  dir: string,
  sched: Scheduler,
  logger: Logger,
  watch?: OpeningWatch,
): Promise<T> {
  const since = sched.now();
  watch?.opening(dir, since);
  const where = shownPath(dir);
  const told = new WaitTold(sched, since, SAVE_STALLED_MS, STOP_WAIT_LOG_MS, (ms) => {
    const then = watch?.stopping === undefined ? "starts" : "stops without starting";
    logger.warn(
      { waitedMs: Math.round(ms) },
      `twins: the data directory ${where} has not answered in ${wholeSeconds(ms)}: ${DISK_NOT_ANSWERING}; the service ${then} once it does, and no process ends before its write does, SIGKILL included`,
    );
  });
  try {
    return await opening;
  } finally {
    watch?.opened();
    told.cancel();
    // A stop asked for meanwhile: the service starts nothing (cli/commands/twins-service-run.ts).
    const stopping = watch?.stopping;
    if (told.told)
      logger.info(
        { waitedMs: Math.round(sched.now() - since) },
        `twins: the data directory ${where} answered after ${wholeSeconds(sched.now() - since)}: ` +
          (stopping === undefined
            ? "the service starts"
            : `the service stops without starting (${stopping})`),
      );
  }
}
