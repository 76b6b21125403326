/**
 * The log line of a change in the twins service's broker (twins/broker-watch.ts): silent with the
 * connection up, lost (after a silence, or at once), answering again, back, each with the broker
 * named and how long the outage has lasted. All at WARN: a log kept at warn (a service running for
 * months) used to say the broker was lost and never that it was back.
 */
import type { Logger } from "pino";
import type { BrokerState } from "./broker-watch.js";

export function logBrokerState(
  logger: Logger,
  url: string,
  state: BrokerState,
  was: BrokerState,
  outageMs: number,
): void {
  const outageS = Math.round(outageMs / 100) / 10;
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
