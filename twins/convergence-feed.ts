/**
 * The convergence feed: recomputes the convergence report when reports or configs change, coalescing
 * a burst (a sync, a retained flood) into one computation, at most every `everyMs` on the service's
 * scheduler. A report whose followers' statuses are unchanged is dropped; a changed one is added to
 * the bounded in-sync series and handed to `emit`. So is one where the followers went from none
 * online to some, or back (`online`: each point says how many of them were online), so a chart of the
 * series can tell a stretch with no follower to judge from one in sync.
 */

import type { NodeId } from "../protocol/index.js";
import type { Scheduler, Timer } from "./clock.js";
import type { ConvergenceReport, FollowerSync } from "./convergence.js";
import { BoundedSeries } from "./series.js";
import type { Presence, SeriesPoint } from "./types.js";

export interface ConvergenceFeedDeps {
  readonly scheduler: Scheduler;
  /**
   * How often, at most, the report is recomputed while the fleet changes; a function is asked each
   * time (the service stretches it with the fleet's size).
   */
  readonly everyMs: number | (() => number);
  /** Points of the in-sync series kept. */
  readonly capacity: number;
  readonly compute: () => ConvergenceReport;
  readonly emit: (report: ConvergenceReport) => void;
  /** Whether a node is online now; without it, points carry no `online`. */
  readonly online?: (id: NodeId) => boolean;
}

export class ConvergenceFeed {
  private readonly series: BoundedSeries;
  private lastFollowers: readonly FollowerSync[] = [];
  private lastAnyOnline: boolean | undefined;
  private timer: Timer | undefined;
  private lastAt = Number.NEGATIVE_INFINITY;
  private stopped = false;

  constructor(private readonly deps: ConvergenceFeedDeps) {
    this.series = new BoundedSeries(deps.capacity);
  }

  history(): SeriesPoint[] {
    return this.series.toArray();
  }

  /** Something the report depends on changed. */
  schedule(): void {
    if (this.timer || this.stopped) return;
    // At once after a quiet spell, then at most every `everyMs`: the computation walks the whole
    // fleet, and a busy fleet changes on every turn of the event loop.
    const { scheduler, everyMs } = this.deps;
    const gap = typeof everyMs === "function" ? everyMs() : everyMs;
    this.timer = scheduler.at(Math.max(scheduler.now(), this.lastAt + gap), () => this.run());
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  private run(): void {
    this.timer = undefined;
    if (this.stopped) return;
    const now = this.deps.scheduler.now();
    this.lastAt = now;
    const report = this.deps.compute();
    // Whether any follower is online decides a point; how many only when one is added (the first
    // online one usually ends the look: most passes add nothing).
    const anyOnline = this.anyOnline(report.followers);
    if (sameStatuses(report.followers, this.lastFollowers) && anyOnline === this.lastAnyOnline) return;
    this.lastFollowers = report.followers;
    this.lastAnyOnline = anyOnline;
    const online = anyOnline ? this.onlineOf(report.followers) : anyOnline === undefined ? undefined : 0;
    const { fraction, inSync, known } = report;
    this.series.push({ t: now, fraction, inSync, known, ...(online !== undefined ? { online } : {}) });
    this.deps.emit(report);
  }

  /** Is a follower with a known status online now? Undefined without a presence to ask. */
  private anyOnline(followers: readonly FollowerSync[]): boolean | undefined {
    const isOnline = this.deps.online;
    if (isOnline === undefined) return undefined;
    for (const f of followers) if (f.status !== "unknown" && isOnline(f.id)) return true;
    return false;
  }

  /** The followers with a known status that are online now (as view/online-followers.ts counts them). */
  private onlineOf(followers: readonly FollowerSync[]): number {
    const isOnline = this.deps.online;
    let n = 0;
    if (isOnline) for (const f of followers) if (f.status !== "unknown" && isOnline(f.id)) n++;
    return n;
  }
}

/** The same followers with the same statuses, in the same order. */
function sameStatuses(a: readonly FollowerSync[], b: readonly FollowerSync[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (x?.id !== y?.id || x?.status !== y?.status) return false;
  }
  return true;
}

const CONVERGENCE_EVERY_MS = 100;

/**
 * A service's feed over `registry`: recomputed at most every 100 ms, or `msPerTwin` a twin on a
 * larger fleet (each computation walks every twin); its points count the followers online, asking
 * each one's presence alone: a whole twin view made per follower per pass (its follows copied, its
 * followers looked up) was most of what a report cost the service on a fleet that changes all the time.
 */
export function fleetFeed(
  opts: { readonly scheduler: Scheduler; readonly historyCapacity: number },
  registry: { readonly size: number; presenceOf(id: NodeId): Presence | undefined },
  msPerTwin: number,
  owner: {
    convergence(): ConvergenceReport;
    emit(event: "convergence", report: ConvergenceReport): unknown;
  },
): ConvergenceFeed {
  return new ConvergenceFeed({
    scheduler: opts.scheduler,
    everyMs: () => Math.max(CONVERGENCE_EVERY_MS, registry.size * msPerTwin),
    capacity: opts.historyCapacity,
    compute: () => owner.convergence(),
    emit: (report) => owner.emit("convergence", report),
    online: (id) => registry.presenceOf(id) === "online",
  });
}
