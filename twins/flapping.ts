/**
 * Nodes that keep going offline and coming back. Two clients with one client id — two boards flashed
 * alike, a second fleet on the broker — take each other's session over as each reconnects, and every
 * takeover publishes the older one's last will: the twin goes offline and online again and again. A
 * board that reboots over and over looks the same. A node gone offline FLAPS_TOLD times within
 * FLAP_WINDOW_MS is told, at most once in REPEAT_MS.
 */
import type { NodeId } from "../protocol/index.js";

export const FLAPS_TOLD = 3;
export const FLAP_WINDOW_MS = 30_000;
/** A node told of is not told of again for this long. */
const REPEAT_MS = 300_000;

interface Flaps {
  /** Its last offline times, oldest first, at most FLAPS_TOLD. */
  readonly times: number[];
  toldAt: number;
}

export class FlapWatch {
  private readonly nodes = new Map<NodeId, Flaps>();

  /** `node` went offline at `at`: how long its last FLAPS_TOLD offlines took when that is to be told. */
  offline(node: NodeId, at: number): number | undefined {
    let f = this.nodes.get(node);
    if (f === undefined) {
      f = { times: [], toldAt: Number.NEGATIVE_INFINITY };
      this.nodes.set(node, f);
    }
    f.times.push(at);
    if (f.times.length > FLAPS_TOLD) f.times.shift();
    const within = at - (f.times[0] as number);
    if (f.times.length < FLAPS_TOLD || within > FLAP_WINDOW_MS || at - f.toldAt < REPEAT_MS) return undefined;
    f.toldAt = at;
    return within;
  }

  /** A node the service no longer holds. */
  forget(node: NodeId): void {
    this.nodes.delete(node);
  }
}

/** The line a flapping node is told with. */
export function flapLine(node: NodeId, withinMs: number): string {
  return `${node} went offline ${FLAPS_TOLD} times in ${(withinMs / 1000).toFixed(1)} s: another client may be using its client id (two boards flashed alike, a second fleet on the broker), each taking the other's session over, or it is rebooting over and over`;
}
