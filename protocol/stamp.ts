/**
 * Stamps: the (Lamport counter, origin id) pair that versions every state, and their total order.
 */
import { compareIds, type NodeId } from "./ids.js";
import { MAX_COUNTER } from "./limits.js";

export interface Stamp {
  readonly counter: number;
  readonly origin: NodeId;
}

/** >0 when a is newer than b: by counter, then by origin id compared as bytes. */
export function compareStamps(a: Stamp, b: Stamp): number {
  if (a.counter !== b.counter) return a.counter > b.counter ? 1 : -1;
  return compareIds(a.origin, b.origin);
}

export function isNewer(a: Stamp, b: Stamp): boolean {
  return compareStamps(a, b) > 0;
}

export function sameStamp(a: Stamp, b: Stamp): boolean {
  return compareStamps(a, b) === 0;
}

export function zeroStamp(origin: NodeId): Stamp {
  return { counter: 0, origin };
}

/** The next counter after `clock`, saturating at the 32-bit maximum as the firmware does. */
export function nextCounter(clock: number): number {
  return clock >= MAX_COUNTER ? MAX_COUNTER : clock + 1;
}

export function formatStamp(s: Stamp): string {
  return `${s.counter}@${s.origin}`;
}
