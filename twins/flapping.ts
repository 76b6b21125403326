/**
 * Nodes that keep going offline and coming back. Two clients with one client id — two boards flashed
 * alike, a second fleet on the broker — take each other's session over as each reconnects, and every
 * takeover publishes the older one's last will: the twin goes offline and online again and again. A
 * board that reboots over and over looks the same. A node gone offline FLAPS_TOLD times within
 * FLAP_WINDOW_MS is told, at most once in REPEAT_MS. A whole fleet flapping would be one warning per
 * node: the first FLAPS_NAMED_ONE_BY_ONE in a minute are warned of one by one, the rest summed in one
 * warning at the minute's end (as the broker's takeover warnings: protocol/digest.ts).
 */
import type { Logger } from "pino";
import { Bursts, type NodeId, WarningDigest } from "../protocol/index.js";
import { after, type Scheduler } from "./clock.js";

export const FLAPS_TOLD = 3;
export const FLAP_WINDOW_MS = 30_000;
/** A node told of is not told of again for this long. */
const REPEAT_MS = 300_000;
/** Nodes warned of one by one within a minute; those after are summed. */
export const FLAPS_NAMED_ONE_BY_ONE = 5;
const FLAP_SUM_WINDOW_MS = 60_000;
/** Nodes a summed warning names (it counts them all). */
const NAMED = 10;

/** Each node's going offline: `hit(node, at)` is how long its last FLAPS_TOLD offlines took, when told. */
export function flapWatch(): Bursts<NodeId> {
  return new Bursts(FLAPS_TOLD, FLAP_WINDOW_MS, REPEAT_MS);
}

/** The line a flapping node is told with. */
export function flapLine(node: NodeId, withinMs: number): string {
  return `${node} went offline ${FLAPS_TOLD} times in ${(withinMs / 1000).toFixed(1)} s: ${CAUSE}`;
}

const CAUSE =
  "another client may be using its client id (two boards flashed alike, a second fleet on the broker), each taking the other's session over, or it is rebooting over and over";

/** The warnings of flapping nodes in the log: the first of a minute one by one, the rest summed. */
export class FlapLog {
  private readonly digest: WarningDigest<NodeId[]>;

  constructor(
    private readonly logger: Logger,
    sched: Scheduler,
  ) {
    this.digest = new WarningDigest(
      FLAPS_NAMED_ONE_BY_ONE,
      FLAP_SUM_WINDOW_MS,
      { now: () => sched.now(), later: (ms, fn) => after(sched, ms, fn) },
      (): NodeId[] => [],
      (nodes, count) =>
        this.logger.warn(
          { nodes: count, first: nodes },
          `twins: ${count} more nodes went offline ${FLAPS_TOLD} times within ${FLAP_WINDOW_MS / 1000} s in the minute, besides the ${FLAPS_NAMED_ONE_BY_ONE} named one by one (first ${nodes.join(", ")}): another client may be using their client ids (a second fleet on the broker, boards flashed alike), or they are rebooting over and over`,
        ),
    );
  }

  /** `node` was told as flapping (its last offlines took `withinMs`). */
  told(node: NodeId, withinMs: number): void {
    const summed = this.digest.hit();
    if (summed === undefined) this.logger.warn(`twins: ${flapLine(node, withinMs)}`);
    else if (summed.length < NAMED) summed.push(node);
  }

  /** Writes the summary under way now (a closing service). */
  flush(): void {
    this.digest.flush();
  }

  /** Drops the summary under way and its timer (a killed service). */
  stop(): void {
    this.digest.stop();
  }
}
