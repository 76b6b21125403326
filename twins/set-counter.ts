/**
 * The counter a set command carries (protocol §4): the highest Lamport counter among the reports
 * the service believes. Two kinds of counter are shown on their twins but not believed for that:
 * one within `COUNTER_HEADROOM` of the 32-bit maximum, and one arriving live more than `COUNTER_JUMP`
 * above the highest believed so far. A fleet's own events get to neither (the first takes four
 * billion events, the second sixteen million the service never saw); a bad or hostile report does
 * at once, and a control server that took it would stamp every node it sets near the maximum, where
 * their counters saturate and their later events stop winning (protocol §4).
 */
import { MAX_COUNTER } from "../protocol/index.js";

/** How close to the maximum a believed counter may come, and how far a live one may jump. */
export const COUNTER_HEADROOM = 2 ** 24;
export const COUNTER_JUMP = 2 ** 24;

export class SetCounter {
  private highest = 0;

  /** The highest believed counter: what the next set command carries. */
  get value(): number {
    return this.highest;
  }

  /**
   * Takes a report's counter in; returns why it is not believed, or undefined. `replayed`: a retained
   * message the broker hands over on a subscription, the fleet's state as it stands (a service that
   * starts has no baseline to measure a jump against, and a fleet's groups may be far apart).
   */
  see(counter: number, replayed: boolean): string | undefined {
    if (counter > MAX_COUNTER - COUNTER_HEADROOM) {
      return counter === MAX_COUNTER
        ? `counter ${counter} is the maximum: the node's clock saturates there and its later events stop winning`
        : `counter ${counter} is within ${COUNTER_HEADROOM} of the maximum ${MAX_COUNTER}`;
    }
    if (!replayed && this.highest > 0 && counter - this.highest > COUNTER_JUMP) {
      return `counter ${counter} jumps ${counter - this.highest} above the highest seen (${this.highest}), more than ${COUNTER_JUMP}`;
    }
    if (counter > this.highest) this.highest = counter;
    return undefined;
  }

  /** Raises the counter to a set the service sent before (read back from its store). */
  sent(counter: number): void {
    if (counter > this.highest && counter <= MAX_COUNTER - COUNTER_HEADROOM) this.highest = counter;
  }
}

/** What a stale report means when the twin's counter is at the maximum: the node can no longer win. */
export function saturationNote(counter: number): string {
  return counter === MAX_COUNTER
    ? " (its counter is at the maximum: this node's presses and sets no longer win; the remedy is in protocol.md §4)"
    : "";
}

/** Why a config version is one no fleet reaches (near the maximum), or undefined. */
export function implausibleVersion(version: number): string | undefined {
  if (version <= MAX_COUNTER - COUNTER_HEADROOM) return undefined;
  return `config version ${version} is within ${COUNTER_HEADROOM} of the maximum ${MAX_COUNTER}: the node's version saturates there, so a pairing changed later is not newer and does not hold; clear its retained config and restart it (protocol.md §4)`;
}
