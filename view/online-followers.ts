/**
 * Of the followers the twins' convergence judges (status known), how many are online now, and how
 * many are unheard (shown online only by the status a broker that restarted kept, not heard since).
 * The report judges an offline follower by its last report, so with every node offline (a site's
 * power cut, the sim stopped) it still read `in sync 100.0%` of 100 followers none of which could be
 * asked: a view says `no follower online to judge` then instead (console/render/header.ts,
 * web/public/dom.js). An unheard follower is neither online nor offline: after a broker restart the
 * page counted it among the `offline` followers while its row, `/api/nodes` and
 * `twinfleet_nodes_unheard` said it was not heard yet. The fraction itself keeps its meaning
 * (docs/twins.md "Convergence", the `convergence_ratio` metric).
 */
import type { NodeId } from "../protocol/index.js";
import { type ConvergenceReport, judgedCounts, type Presence } from "../twins/index.js";

/** The followers online now and, when there are any, those unheard (ConvergenceSnapshot). */
export interface JudgedFollowers {
  readonly online: number;
  readonly unheard?: number;
}

export class OnlineFollowers {
  private counts: JudgedFollowers = { online: 0 };
  private stale = true;

  constructor(private readonly presence: (id: NodeId) => Presence | undefined) {}

  /** A new report, or a node's presence changed: counted again when next asked (once per frame at most). */
  moved(): void {
    this.stale = true;
  }

  /** The followers of `report` with a known status that are online now, and those unheard now. */
  of(report: ConvergenceReport): JudgedFollowers {
    if (!this.stale) return this.counts;
    this.stale = false;
    const { online, unheard } = judgedCounts(report.followers, this.presence);
    this.counts = unheard > 0 ? { online, unheard } : { online };
    return this.counts;
  }
}
