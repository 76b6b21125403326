/**
 * Regressions: a node's state going back to an older stamp than one it already held — what a reboot
 * does when the broker no longer has (or never got) the node's newest report. Judged per node in the
 * order the node did things, not in time order across the fleet: a press can interrupt a loop job
 * whose effect is timestamped a little later, and sorting by time would show its older stamp after
 * the press's newer one.
 */
import { compareStamps, type NodeId, type Stamp } from "../protocol/index.js";

/** A node's state went back: it held `held` (or newer) before and now holds the older `now`. */
export interface Regression {
  readonly node: NodeId;
  readonly at: number;
  readonly held: Stamp;
  readonly now: Stamp;
}

export class RegressionWatch {
  readonly list: Regression[] = [];
  /** The newest stamp each node has ever held, across reboots. */
  private readonly high = new Map<NodeId, Stamp>();
  /** Nodes whose state is behind `high` since their last regression. */
  private readonly behind = new Set<NodeId>();

  /** The node now holds `stamp` (a press, an applied report or set, the state a sync ended on). */
  holds(node: NodeId, stamp: Stamp, at: number): void {
    const high = this.high.get(node);
    if (high === undefined || compareStamps(stamp, high) >= 0) {
      this.high.set(node, stamp);
      this.behind.delete(node);
    } else if (!this.behind.has(node)) {
      this.behind.add(node);
      this.list.push({ node, at, held: high, now: stamp });
    }
  }

  get count(): number {
    return this.list.length;
  }
}
