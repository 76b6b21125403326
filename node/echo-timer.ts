/**
 * The echo timer: when each of the node's own reports went out, so that reading the broker's copy
 * of it back (the node subscribes to its own report topic) gives the `echo` event's round trip.
 * Reports are keyed by payload, which carries the stamp; a bounded number are remembered.
 */
import type { Stamp } from "../protocol/index.js";

/** How many unechoed reports are remembered; older ones are not timed. */
const MAX_PENDING = 64;

export interface SentReport {
  /** When the report was handed to PubSubClient. */
  readonly at: number;
  readonly stamp: Stamp;
}

export class EchoTimer {
  private readonly pending = new Map<string, SentReport>();

  /**
   * An own report went out at `at`. Only its first copy is timed: TCP keeps order, so the first copy
   * read back is the echo of the first publish.
   */
  sent(payload: string, at: number, stamp: Stamp): void {
    if (this.pending.has(payload)) return;
    this.pending.set(payload, { at, stamp });
    if (this.pending.size > MAX_PENDING) {
      const oldest = this.pending.keys().next();
      if (!oldest.done) this.pending.delete(oldest.value);
    }
  }

  /** An own report was read back: when it had gone out, if it was being timed. */
  echoed(payload: string): SentReport | undefined {
    const sent = this.pending.get(payload);
    if (sent === undefined) return undefined;
    this.pending.delete(payload);
    return sent;
  }
}
