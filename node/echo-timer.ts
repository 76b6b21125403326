/**
 * The echo timer: when each of the node's own reports went out, so that reading the broker's copy
 * of it back (the node subscribes to its own report topic) gives the `echo` event's round trip.
 * Reports are keyed by payload, which carries the stamp; a bounded number are remembered.
 */
import type { Stamp } from "../protocol/index.js";

/** What an empty slot holds. */
const NO_STAMP: Stamp = { counter: 0, origin: "" as Stamp["origin"] };

/** How many unechoed reports are remembered; older ones are not timed. */
const MAX_PENDING = 64;

export interface SentReport {
  /** When the report was handed to PubSubClient. */
  readonly at: number;
  readonly stamp: Stamp;
}

/**
 * Kept in three parallel arrays, oldest first, that are never shrunk: a node has one or two reports
 * in flight, and a Map's table grown and shrunk for each (a new table per report, kept for minutes)
 * was the collector's work at 100,000 nodes.
 */
export class EchoTimer {
  private readonly payloads: string[] = [];
  private readonly ats: number[] = [];
  private readonly stamps: Stamp[] = [];
  private count = 0;

  /**
   * An own report went out at `at`. Only its first copy is timed: TCP keeps order, so the first copy
   * read back is the echo of the first publish.
   */
  sent(payload: string, at: number, stamp: Stamp): void {
    if (this.find(payload) >= 0) return;
    if (this.count === MAX_PENDING) this.removeAt(0);
    const i = this.count++;
    this.payloads[i] = payload;
    this.ats[i] = at;
    this.stamps[i] = stamp;
  }

  /** An own report was read back: when it had gone out, if it was being timed. */
  echoed(payload: string): SentReport | undefined {
    const i = this.find(payload);
    if (i < 0) return undefined;
    const sent = { at: this.ats[i] as number, stamp: this.stamps[i] as Stamp };
    this.removeAt(i);
    return sent;
  }

  private find(payload: string): number {
    for (let i = 0; i < this.count; i++) if (this.payloads[i] === payload) return i;
    return -1;
  }

  private removeAt(i: number): void {
    const last = --this.count;
    for (let k = i; k < last; k++) {
      this.payloads[k] = this.payloads[k + 1] as string;
      this.ats[k] = this.ats[k + 1] as number;
      this.stamps[k] = this.stamps[k + 1] as Stamp;
    }
    // Let the strings and stamps go; the slot stays for the next report.
    this.payloads[last] = "";
    this.stamps[last] = NO_STAMP;
  }
}
