/**
 * Of the followers the twins' convergence judges (status known), how many are online now. The report
 * judges an offline follower by its last report, so with every node offline (a site's power cut, the
 * sim stopped) it still read `in sync 100.0%` of 100 followers none of which could be asked: a view
 * says `no follower online to judge` then instead (console/render/header.ts, web/public/dom.js). The
 * fraction itself keeps its meaning (docs/twins.md "Convergence", the `convergence_ratio` metric).
 */
import type { NodeId } from "../protocol/index.js";
import type { ConvergenceReport } from "../twins/index.js";

export class OnlineFollowers {
  private count = 0;
  private stale = true;

  constructor(private readonly online: (id: NodeId) => boolean) {}

  /** A new report, or a node's presence changed: counted again when next asked (once per frame at most). */
  moved(): void {
    this.stale = true;
  }

  /** The followers of `report` with a known status that are online now. */
  of(report: ConvergenceReport): number {
    if (!this.stale) return this.count;
    this.stale = false;
    let n = 0;
    for (const f of report.followers) if (f.status !== "unknown" && this.online(f.id)) n++;
    this.count = n;
    return n;
  }
}
