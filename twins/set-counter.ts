/**
 * The counter a set command carries: the highest among the reports the service believes (a counter
 * above the protocol's ceiling is dropped before it gets here, as nodes drop it, protocol §4). One
 * arriving live more than `COUNTER_JUMP` above the highest believed so far (sixteen million events
 * the service never saw) is shown on its twin, as the nodes take it, but not believed for that, or
 * one bad report would have the service stamp every node it sets sixteen million events on.
 */
import { COUNTER_CEILING } from "../protocol/index.js";

/** How far above the highest believed counter a live one may jump. */
export const COUNTER_JUMP = 2 ** 24;

export class SetCounter {
  private highest = 0;

  /** The highest believed counter: what the next set command carries. */
  get value(): number {
    return this.highest;
  }

  /**
   * Takes a report's counter (at most the ceiling) in; returns why it is not believed, or undefined.
   * `replayed`: a retained message the broker hands over on a subscription, the fleet's state as it
   * stands (a service that starts has no baseline to measure a jump against, and a fleet's groups
   * may be far apart).
   */
  see(counter: number, replayed: boolean): string | undefined {
    if (!replayed && this.highest > 0 && counter - this.highest > COUNTER_JUMP) {
      return `counter ${counter} jumps ${counter - this.highest} above the highest seen (${this.highest}), more than ${COUNTER_JUMP}: shown, not carried into set commands`;
    }
    if (counter > this.highest) this.highest = counter;
    return undefined;
  }

  /** Raises the counter to a set the service sent before (read back from its store). */
  sent(counter: number): void {
    if (counter > this.highest && counter <= COUNTER_CEILING) this.highest = counter;
  }
}
