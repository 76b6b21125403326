/**
 * The log line of a change in the twins service's broker (twins/broker-watch.ts): silent with the
 * connection up, lost (after a silence, or at once), answering again, back, each with the broker
 * named and how long the outage has lasted. All at WARN: a log kept at warn (a service running for
 * months) used to say the broker was lost and never that it was back. A change told while, or just
 * after, the service itself did not run (node/stall-watch.ts: stopped, its VM paused) is said to be
 * the service's own stall: its timers ran out while it was stopped, not the broker; one lost then but
 * back too long after it (node/stall-watch.ts STALL_RECONNECT_MS) was the broker's too, and says so.
 */
import type { Logger } from "pino";
import { type Stall, stallSeconds } from "../node/stall-watch.js";
import type { BrokerState } from "./broker-watch.js";

/** How the service's own stall is told in a line about its broker (the log's, the page's). */
export function serviceStalled(s: Stall): string {
  return `the service itself did not run for ${stallSeconds(s)} s (its host stopped or paused it): its own stall, not the broker's`;
}

/** How a connection lost in the service's stall, but back too long after it, is told. */
export function outlastedStall(s: Stall): string {
  return `lost while the service itself did not run (${stallSeconds(s)} s), but away longer than its stall explains: the broker, or the path to it, was away too`;
}

export function logBrokerState(
  logger: Logger,
  url: string,
  state: BrokerState,
  was: BrokerState,
  outageMs: number,
  stall?: Stall,
  outlasted?: Stall,
): void {
  const outageS = Math.round(outageMs / 100) / 10;
  if (outlasted !== undefined) {
    // Lost in its own stall, but back too long after it for the stall alone: the broker was away too.
    logger.warn(
      { broker: url, outageS },
      `twins: broker connection back after ${outageS} s: ${outlastedStall(outlasted)}`,
    );
    return;
  }
  if (stall !== undefined) {
    const what =
      state === "up"
        ? `broker connection back after ${outageS} s`
        : state === "silent"
          ? `the broker at ${url} not heard for ${outageS} s`
          : "broker connection lost, reconnecting";
    logger.warn(
      { broker: url, outageS, stalledS: Math.round((stall.endMs - stall.startMs) / 100) / 10 },
      `twins: ${what}; ${serviceStalled(stall)}`,
    );
    return;
  }
  if (state === "silent") {
    logger.warn(
      { broker: url, silentS: outageS },
      `twins: the broker at ${url} has been silent for ${outageS} s with the connection up (frozen, or the path to it cut): the nodes are shown as last heard until it answers`,
    );
  } else if (state === "lost") {
    if (was === "silent")
      logger.warn(
        { broker: url, silentS: outageS },
        `twins: broker connection lost after ${outageS} s of silence, reconnecting`,
      );
    else logger.warn({ broker: url }, "twins: broker connection lost, reconnecting");
  } else if (was === "silent") {
    logger.warn(
      { broker: url, outageS },
      `twins: the broker at ${url} answers again after ${outageS} s of silence`,
    );
  } else logger.warn({ broker: url, outageS }, `twins: broker connection back after ${outageS} s`);
}
