/**
 * A long-running twins service that starts before its broker: the first connection is tried again,
 * as a reconnect is, for as long as what fails may pass (nothing listening yet, no answer, a reset:
 * `BrokerConnectError.transient`). What it tells while it waits: one WARN at the first failure,
 * naming the broker and the cause and that it keeps trying, a reminder every REMIND_MS with how long
 * it has waited, and one more WARN once the broker is reached, with how long that took. Its `status` is
 * what the web page and `/healthz` show meanwhile. All on the service's scheduler.
 */
import type { Logger } from "pino";
import type { StallWatch } from "../node/stall-watch.js";
import { every, type Scheduler, type Timer } from "./clock.js";
import type { BrokerConnectError } from "./connection.js";

/** How often a service still waiting for its broker says so. */
export const REMIND_MS = 30_000;

/** A service waiting for its broker: since when (on its scheduler), and the last attempt's failure. */
export interface BrokerWaitStatus {
  /** The broker's URL, without credentials. */
  readonly broker: string;
  readonly since: number;
  /** The last failed attempt's line (`cannot reach the broker at …: connection refused`); none before one failed. */
  readonly cause?: string;
}

export interface BrokerWaitOptions {
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  /** The broker's URL, without credentials. */
  readonly url: string;
  /** How often the connection is tried again (MQTT.js's reconnect period). */
  readonly reconnectPeriodMs: number;
  /** The first failure (false), and the broker reached, after a failure or at once (true): for the service's `broker` event. */
  readonly tell: (reached: boolean) => void;
  /** Whether the service itself stopped running for a while (node/stall-watch.ts): part of the wait that was its own. */
  readonly stalls?: StallWatch | undefined;
}

const seconds = (ms: number) => Math.round(ms / 100) / 10;

export class BrokerWait {
  private readonly since: number;
  private cause: string | undefined;
  /** The last failure was the service's own stall. */
  private excused = false;
  private reminder: Timer | undefined;
  private done = false;

  constructor(private readonly o: BrokerWaitOptions) {
    this.since = o.scheduler.now();
  }

  /** While the broker has not been reached: since when, and why; undefined once it has (or once stopped). */
  get status(): BrokerWaitStatus | undefined {
    if (this.done) return undefined;
    const at = { broker: this.o.url, since: this.since };
    return this.cause === undefined ? at : { ...at, cause: this.cause };
  }

  /** How it is tried again, for the lines. */
  private get retrying(): string {
    return `trying again every ${seconds(this.o.reconnectPeriodMs)} s until it answers`;
  }

  /**
   * An attempt failed in a way that may pass: told at the first, then only by the reminders. One that
   * was the service's own stall (it did not run while it connected) is told as such, and the first
   * failure after it that is not, too: the broker's or the network's after all.
   */
  failed(err: BrokerConnectError): void {
    if (this.done) return;
    const first = this.cause === undefined;
    const tell = first || (this.excused && err.stall === undefined);
    this.cause = err.message;
    this.excused = err.stall !== undefined;
    if (!tell) return;
    const { logger, url, scheduler } = this.o;
    logger.warn({ broker: url, reason: err.reason }, `twins: ${err.message}; ${this.retrying}`);
    if (!first) return;
    this.o.tell(false);
    this.reminder = every(scheduler, REMIND_MS, () => {
      const waitedS = seconds(scheduler.now() - this.since);
      logger.warn(
        { broker: url, waitedS },
        `twins: still waiting after ${waitedS} s: ${this.cause}; ${this.retrying}`,
      );
    });
  }

  /**
   * Connected: if an attempt had failed, one line with how long it took, at the warning's level (a
   * log that shows only warnings, as a run's does, shows the wait's end too); nothing more is told.
   */
  reached(): void {
    if (this.done) return;
    const { logger, url, scheduler } = this.o;
    this.stop();
    if (this.cause !== undefined) {
      const waitedS = seconds(scheduler.now() - this.since);
      // The part of the wait the service itself did not run (it was stopped) is no broker's delay.
      const stalledMs = (this.o.stalls?.list() ?? [])
        .filter((s) => s.endMs > this.since)
        .reduce((ms, s) => ms + s.endMs - Math.max(s.startMs, this.since), 0);
      const own =
        stalledMs === 0
          ? ""
          : `, ${seconds(stalledMs)} s of it the service's own stall (its host stopped or paused it), not the broker's`;
      logger.warn(
        { broker: url, waitedS, ...(stalledMs > 0 ? { stalledS: seconds(stalledMs) } : {}) },
        `twins: reached the broker at ${url} after waiting ${waitedS} s${own}`,
      );
    }
    // Told at the first attempt too: a view or a gauge that read `status` while the service was
    // connecting took the broker as not reached, and would have kept it so (a /healthz 503 forever).
    this.o.tell(true);
  }

  /** Tells nothing more (the service is closing, or a failure ends the wait). */
  stop(): void {
    this.done = true;
    this.reminder?.cancel();
  }
}
