/**
 * Nodes that keep going offline and coming back. Two clients with one client id — two boards flashed
 * alike, a second fleet on the broker — take each other's session over as each reconnects, and every
 * takeover publishes the older one's last will: the twin goes offline and online again and again. A
 * board that reboots over and over looks the same. A node gone offline FLAPS_TOLD times within
 * FLAP_WINDOW_MS is told, at most once in REPEAT_MS.
 */
import { Bursts, type NodeId } from "../protocol/index.js";

export const FLAPS_TOLD = 3;
export const FLAP_WINDOW_MS = 30_000;
/** A node told of is not told of again for this long. */
const REPEAT_MS = 300_000;

/** Each node's going offline: `hit(node, at)` is how long its last FLAPS_TOLD offlines took, when told. */
export function flapWatch(): Bursts<NodeId> {
  return new Bursts(FLAPS_TOLD, FLAP_WINDOW_MS, REPEAT_MS);
}

/** The line a flapping node is told with. */
export function flapLine(node: NodeId, withinMs: number): string {
  return `${node} went offline ${FLAPS_TOLD} times in ${(withinMs / 1000).toFixed(1)} s: another client may be using its client id (two boards flashed alike, a second fleet on the broker), each taking the other's session over, or it is rebooting over and over`;
}
