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
  /**
   * Per node, the newest stamp it has ever held (across reboots) and whether its state is behind
   * that since its last regression: one entry, changed in place, looked up once per event.
   */
  private readonly nodes = new Map<NodeId, { high: Stamp; behind: boolean }>();

  /** The node now holds `stamp` (a press, an applied report or set, the state a sync ended on). */
  holds(node: NodeId, stamp: Stamp, at: number): void {
    const n = this.nodes.get(node);
    if (n === undefined) this.nodes.set(node, { high: stamp, behind: false });
    else if (compareStamps(stamp, n.high) >= 0) {
      n.high = stamp;
      n.behind = false;
    } else if (!n.behind) {
      n.behind = true;
      this.list.push({ node, at, held: n.high, now: stamp });
    }
  }

  get count(): number {
    return this.list.length;
  }
}
