/**
 * Messages a Mosquitto broker dropped on their way to its clients, from its own count
 * (`$SYS/broker/publish/messages/dropped`, published every `sys_interval`, 10 s by default).
 * Mosquitto drops a message for a client whose in-flight window (`max_inflight_messages`, 20) and
 * queue (`max_queued_messages`, 1,000) are full, and tells only its own log. The service's
 * subscriptions replay every node's retained config, status and report at once: measured on
 * Mosquitto 2.0.11 with its defaults, a service starting on 600 nodes' retained messages was sent
 * 160 statuses fewer than the broker held (the count rose by 160), and showed those nodes' presence
 * unknown without a word. A rise is told, at most once a minute. The count is the broker's, over all
 * its clients: Mosquitto's log names the client (`Outgoing messages are being dropped for client …`).
 * Brokers that publish no such topic (twinfleet broker, aedes) and access rules that deny `$SYS`
 * leave it silent.
 */
import type { Logger } from "pino";
import type { Scheduler } from "./clock.js";

export const DROPPED_TOPIC = "$SYS/broker/publish/messages/dropped";
/** The least time between two warnings; a rise in between is told with the next one. */
export const DROPS_WARN_EVERY_MS = 60_000;

export class BrokerDrops {
  /** The broker's count when last told (or first heard), undefined until heard. */
  private told: number | undefined;
  private lastWarnAt = Number.NEGATIVE_INFINITY;
  /** The broker's count when last heard (`told` stays behind while a warning waits for its minute). */
  private heard: number | undefined;

  constructor(
    private readonly opts: {
      readonly scheduler: Scheduler;
      readonly logger: Logger;
      readonly url: string;
      readonly clientId: string;
    },
    /** Told each rise as it is heard (for a counter: the warning is once a minute). */
    private readonly rose: (count: number) => void = () => {},
  ) {}

  /** The broker published its count (the first, retained, is where counting starts). */
  count(payload: Buffer): void {
    const n = Number(payload.toString());
    if (!Number.isSafeInteger(n) || n < 0) return;
    if (this.heard !== undefined && n > this.heard) this.rose(n - this.heard);
    this.heard = n;
    // A restarted broker counts from 0 again.
    if (this.told === undefined || n < this.told) {
      this.told = n;
      return;
    }
    const now = this.opts.scheduler.now();
    if (n === this.told || now - this.lastWarnAt < DROPS_WARN_EVERY_MS) return;
    const { url, clientId, logger } = this.opts;
    logger.warn(
      { broker: url, dropped: n - this.told, droppedTotal: n },
      `twins: the broker at ${url} dropped ${n - this.told} messages on their way to its clients (${DROPPED_TOPIC} went from ${this.told} to ${n}): a client's in-flight window and queue were full (Mosquitto's max_inflight_messages and max_queued_messages). If they were the twins service's (${clientId}; Mosquitto's log says "Outgoing messages are being dropped for client ${clientId}"), its view misses reports, configs or statuses until the nodes send them again: raise max_queued_messages above 3 messages per node, or set it to 0 (docs/mosquitto.md)`,
    );
    this.told = n;
    this.lastWarnAt = now;
  }
}
