/**
 * Why the reconnects of a broker outage fail, told once per cause (a name that stopped resolving,
 * then a port that refuses, then a login refused, then a broker that closes each connection at once),
 * not one line an attempt, with when the next comes
 * (refusals are tried again after growing pauses: twins/refusal-backoff.ts).
 */
import type { ConnectPhase } from "./connect-phase.js";
import { BrokerConnectError, connectError, connectTimeoutError } from "./connection.js";
import type { ResolvedTwinsOptions } from "./options.js";
import { isRefusal, REFUSED_RETRY_MAX_MS } from "./refusal-backoff.js";

type Opts = Pick<
  ResolvedTwinsOptions,
  "logger" | "url" | "connectTimeoutMs" | "password" | "reconnectPeriodMs" | "stalls" | "scheduler"
>;

export class ReconnectFailures {
  /** Why the reconnects of the outage under way fail, once one has. */
  cause: string | undefined;

  constructor(private readonly opts: Opts) {}

  /** A reconnect failed, the next attempt `pauseMs` later: its cause told if it is new. */
  failed(err: Error, phase: ConnectPhase | undefined, pauseMs: number): void {
    const { logger, url, connectTimeoutMs, password, reconnectPeriodMs, stalls, scheduler } = this.opts;
    // The connection's own end, told by MQTT.js after it dropped it (its ping went unanswered: a
    // path cut with the connection up), not a reconnect that failed: no attempt has been made yet,
    // and the loss is told already (`broker connection lost after … s of silence`). It was told as
    // `cannot connect to the broker at …: Keepalive timeout`, and /healthz and every command refused
    // until the first attempt timed out gave it as why the reconnects failed.
    if (isKeepaliveEnd(err)) {
      logger.debug({ err }, "twins: broker connection ended by its keepalive");
      return;
    }
    // A reconnect's timer that ran out while the service itself did not run is its stall's.
    const e =
      err instanceof BrokerConnectError
        ? err // closed at once (twins/closed-at-once.ts): MQTT.js told no error
        : err.message === "connack timeout"
          ? connectTimeoutError(url, connectTimeoutMs, phase, stalls?.explaining(scheduler.now()))
          : connectError(err, url, password);
    if (e.message === this.cause) {
      logger.debug({ err }, "twins: broker connection error");
      return;
    }
    this.cause = e.message;
    const again = isRefusal(err)
      ? `trying again in ${seconds(pauseMs)} s, then after pauses that double up to ${seconds(REFUSED_RETRY_MAX_MS)} s (a broker bans an address that keeps failing to log in, and every device behind it)`
      : `trying again every ${seconds(reconnectPeriodMs)} s until it answers`;
    logger.warn({ broker: url, reason: e.reason }, `twins: ${e.message}; ${again}`);
  }
}

/** MQTT.js's error when it ends a connection whose ping went unanswered (mqtt 5, client.onKeepaliveTimeout). */
export const isKeepaliveEnd = (err: Error): boolean => err.message === "Keepalive timeout";

const seconds = (ms: number): number => Math.round(ms / 100) / 10;
