/**
 * The convergence feed: recomputes the convergence report when reports or configs change, coalescing
 * a burst (a sync, a retained flood) into one computation, at most every `everyMs` on the service's
 * scheduler. A report whose followers' statuses are unchanged is dropped; a changed one is added to
 * the bounded in-sync series and handed to `emit`. Each point says how many of the followers were
 * online and how many unheard (not heard since a broker restart), so a chart of the series tells a
 * stretch with no follower to judge, and one where they are only unheard, from one in sync. A point
 * is added too when those counts change with the statuses the same: one when either count reaches or
 * leaves zero, and otherwise the latest such point takes the place of the one before it (a point
 * kept the online count of when it was added, 15 of 50 after a broker restart while all 50 had been
 * heard since; a flapping fleet's counts would otherwise push the history out of the series).
 * Beside the series, the long tier (twins/minute-tier.ts) keeps a minute's lowest share for 48 h.
 * Points measured during the service's own re-read of the broker's state carry the share from before
 * it, marked `held` (twins/reread-hold.ts): the series and the minutes take the same points.
 */

import type { Logger } from "pino";
import type { StallWatch } from "../node/stall-watch.js";
import type { NodeId } from "../protocol/index.js";
import { type AwaySpan, AwaySpans } from "./broker-spans.js";
import type { BrokerLoss } from "./broker-watch.js";
import type { Scheduler, Timer } from "./clock.js";
import type { ConvergenceReport, FollowerSync } from "./convergence.js";
import { HistoryKeeper, type HistoryUnwritten } from "./history-keeper.js";
import type { KeptHistory } from "./history-restore.js";
import { MINUTES_KEPT, type MinutePoint, MinuteTier } from "./minute-tier.js";
import { tellOwnStalls } from "./own-stall-log.js";
import { RereadHold } from "./reread-hold.js";
import { BoundedSeries } from "./series.js";
import type { Presence, SeriesPoint } from "./types.js";

/** The followers with a known status online, and unheard, at a pass. */
export interface Counts {
  readonly online: number;
  readonly unheard: number;
}

/**
 * Of the followers with a known status (those the convergence judges), how many are online now and
 * how many unheard (shown online only by a restarted broker's kept status): the feed's points and
 * the views' live figure (view/online-followers.ts) count alike.
 */
export function judgedCounts(
  followers: readonly FollowerSync[],
  presence: (id: NodeId) => Presence | undefined,
): Counts {
  let online = 0;
  let unheard = 0;
  for (const f of followers) {
    if (f.status === "unknown") continue;
    const p = presence(f.id);
    if (p === "online") online++;
    else if (p === "unheard") unheard++;
  }
  return { online, unheard };
}

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
  /** A node's presence now; without it, points carry no `online` nor `unheard`. */
  readonly presence?: (id: NodeId) => Presence | undefined;
  /** Minutes of the long tier kept (twins/minute-tier.ts); MINUTES_KEPT unless told. */
  readonly minutesKept?: number;
  /** The process's stall watch: where a stall that held the minutes' timer began (twins/minute-tier.ts). */
  readonly stalls?: StallWatch | undefined;
  /** Where the service's own stalls are said (twins/own-stall-log.ts); unsaid without one. */
  readonly logger?: Logger | undefined;
  /** The history kept in the data directory (twins/history-keeper.ts): restored, and each point appended. */
  readonly kept?: { readonly history: KeptHistory; readonly logger: Logger };
}

export class ConvergenceFeed {
  private readonly series: BoundedSeries;
  private lastFollowers: readonly FollowerSync[] = [];
  private lastCounts: Counts | undefined;
  /** The newest point only moved the counts within the same side of zero: the next such one replaces it. */
  private lastCountsOnly = false;
  private timer: Timer | undefined;
  private lastAt = Number.NEGATIVE_INFINITY;
  private stopped = false;
  private readonly keeper: HistoryKeeper | undefined;
  private readonly tier: MinuteTier;
  private readonly spans: AwaySpans;
  private readonly stallsUntold: (() => void) | undefined;
  /** The broker link as last told: undefined before any word of it. */
  private linkUp: boolean | undefined;
  /** The service's own re-read of the broker's state: the share from before holds through it. */
  private readonly hold = new RereadHold();
  /** A re-read whose points were held is over: the next pass adds the share measured, changed or not. */
  private holdEnded = false;

  constructor(private readonly deps: ConvergenceFeedDeps) {
    // While the broker link is down or not yet up, its own lines say the stall (twins/broker-link.ts).
    const linkSays = () => this.linkUp !== true;
    this.stallsUntold = deps.stalls && deps.logger && tellOwnStalls(deps.stalls, deps.logger, linkSays);
    this.series = new BoundedSeries(deps.capacity);
    const kept = deps.kept;
    for (const p of kept?.history.points ?? []) this.series.push(p);
    const last = this.series.last();
    this.tier = new MinuteTier({
      scheduler: deps.scheduler,
      capacity: deps.minutesKept ?? MINUTES_KEPT,
      restored: kept?.history.minutes ?? [],
      ...(last !== undefined ? { last, points: this.series.toArray() } : {}),
      closed: (m) => this.keeper?.addedMinute(m),
      stalls: deps.stalls,
    });
    this.spans = new AwaySpans(kept?.history.away, (span) => this.keeper?.addedAway(span));
    if (kept === undefined) return;
    this.keeper = new HistoryKeeper(
      kept.history,
      deps.capacity,
      deps.scheduler,
      kept.logger,
      () => this.series.toArray(),
      () => this.tier.closedMinutes(),
      deps.minutesKept,
      () => this.spans.all(),
      deps.stalls,
    );
  }

  history(): SeriesPoint[] {
    return this.series.toArray();
  }

  /** The long tier: a minute's lowest share, for 48 h, oldest first, the minute under way last. */
  minutes(): MinutePoint[] {
    return this.tier.all();
  }

  /**
   * The broker's outages (twins/broker-spans.ts), those before a restart from the history file: the
   * charts' `broker away` band.
   */
  away(): AwaySpan[] {
    return this.spans.all();
  }

  /**
   * The broker was lost (not connected: lost, silent, not reached; last heard at `lastHeardAt`) or is
   * back: the long tier marks it, and the outage's span is kept.
   */
  broker(connected: boolean, lastHeardAt?: number, how?: BrokerLoss | "unreached"): void {
    this.linkUp = connected;
    this.tier.broker(connected);
    this.spans.broker(connected, this.deps.scheduler.now(), lastHeardAt, how);
  }

  /**
   * The service re-reads the broker's retained state (`under`: a subscription, at a start or after a
   * reconnect) or has read it all. Meanwhile its share is its own view half refreshed, not the
   * fleet's: the points carry the share from before, `held` (twins/reread-hold.ts), and the first
   * pass after it adds the share measured then. The fine series showed the re-read as a dip of the
   * fleet at each reconnect (464 of 600 for a second, a fleet in sync); the minutes held the share
   * already, by a rule of their own that the points of a restart's rebuild did not know.
   */
  reread(under: boolean): void {
    if (under) this.hold.begin(this.series.last());
    else if (this.hold.end()) {
      this.holdEnded = true;
      this.schedule();
    }
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

  /** Adds no more points; the kept history's buffered ones are not written (a kill). */
  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    this.tier.stop();
    this.keeper?.stop();
    this.stallsUntold?.();
  }

  /** Resolves once the kept history's write under way, if any, is over. */
  async historyWritten(): Promise<void> {
    await this.keeper?.settled();
  }

  /** While the kept history's writes fail: since when, and why (twins/history-keeper.ts). */
  get historyUnwritten(): HistoryUnwritten | undefined {
    return this.keeper?.unwritten;
  }

  /** The kept history's write under way once it has stalled (twins/history-keeper.ts). */
  get historyStalled(): { readonly forMs: number; readonly where: string } | undefined {
    const s = this.keeper?.stalled;
    return s === undefined ? undefined : { forMs: this.deps.scheduler.now() - s.since, where: s.file };
  }

  /** Stops, and writes the kept history's last points and its clean stop. */
  async close(): Promise<void> {
    this.stop();
    await this.keeper?.close();
  }

  private run(): void {
    this.timer = undefined;
    if (this.stopped) return;
    const now = this.deps.scheduler.now();
    this.lastAt = now;
    const report = this.deps.compute();
    const counts = this.countsOf(report.followers);
    const statuses = sameStatuses(report.followers, this.lastFollowers);
    const before = this.lastCounts;
    if (statuses && sameCounts(counts, before) && !this.holdEnded) return;
    this.lastFollowers = report.followers;
    this.lastCounts = counts;
    this.holdEnded = false;
    const { fraction, inSync, known } = report;
    const measured: SeriesPoint = {
      t: now,
      fraction,
      inSync,
      known,
      ...(counts !== undefined ? { online: counts.online } : {}),
      ...(counts !== undefined && counts.unheard > 0 ? { unheard: counts.unheard } : {}),
    };
    // Within the service's own re-read: the share from before, or nothing before its first read.
    const point = this.hold.shown(measured);
    // Other followers' statuses, the same figures (one out of sync as another came in, followers
    // still unknown registering at a start): a point would repeat the last one and carry nothing.
    const last = this.series.last();
    if (
      point === undefined ||
      (last !== undefined && last.stoppedUntil === undefined && sameFigures(last, point))
    ) {
      this.deps.emit(report);
      return;
    }
    const countsOnly = statuses && !crossesZero(counts, before);
    // A held point does not take the place of a measured one, nor the first measured one of a held one.
    const replaces = countsOnly && this.lastCountsOnly && last?.held === point.held;
    if (replaces) this.series.replaceLast(point);
    else this.series.push(point);
    this.keeper?.added(point, replaces);
    this.tier.added(point);
    this.lastCountsOnly = countsOnly;
    this.deps.emit(report);
  }

  /** The followers judged online now and unheard now; undefined without a presence to ask. */
  private countsOf(followers: readonly FollowerSync[]): Counts | undefined {
    const presence = this.deps.presence;
    return presence === undefined ? undefined : judgedCounts(followers, presence);
  }
}

function sameCounts(a: Counts | undefined, b: Counts | undefined): boolean {
  return a?.online === b?.online && a?.unheard === b?.unheard;
}

/** The same share, counts and followers online and unheard, both held or neither: a chart draws them alike. */
function sameFigures(a: SeriesPoint, b: SeriesPoint): boolean {
  return (
    a.fraction === b.fraction &&
    a.inSync === b.inSync &&
    a.known === b.known &&
    a.online === b.online &&
    a.unheard === b.unheard &&
    a.held === b.held
  );
}

/** Did a count reach or leave zero (or were there none before)? */
function crossesZero(a: Counts | undefined, b: Counts | undefined): boolean {
  if (a === undefined || b === undefined) return a !== b;
  return a.online > 0 !== b.online > 0 || a.unheard > 0 !== b.unheard > 0;
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
 * larger fleet (each computation walks every twin); its points count the followers online and
 * unheard, asking each one's presence alone: a whole twin view made per follower per pass (its
 * follows copied, its followers looked up) was most of what a report cost the service on a fleet
 * that changes all the time.
 */
export function fleetFeed(
  opts: {
    readonly scheduler: Scheduler;
    readonly historyCapacity: number;
    readonly logger?: Logger;
    readonly stalls?: StallWatch | undefined;
  },
  registry: {
    readonly size: number;
    presenceOf(id: NodeId): Presence | undefined;
    /** Told as the broker's replay begins and ends (twins/registry.ts). */
    rereading?: (under: boolean) => void;
  },
  msPerTwin: number,
  owner: {
    convergence(): ConvergenceReport;
    emit(event: "convergence", report: ConvergenceReport): unknown;
    on?(
      event: "broker",
      listener: (connected: boolean, lastHeardAt?: number, how?: BrokerLoss | "unreached") => void,
    ): unknown;
  },
  kept?: KeptHistory,
): ConvergenceFeed {
  const feed = new ConvergenceFeed({
    scheduler: opts.scheduler,
    everyMs: () => Math.max(CONVERGENCE_EVERY_MS, registry.size * msPerTwin),
    capacity: opts.historyCapacity,
    compute: () => owner.convergence(),
    emit: (report) => owner.emit("convergence", report),
    presence: (id) => registry.presenceOf(id),
    stalls: opts.stalls,
    logger: opts.logger,
    ...(kept !== undefined && opts.logger !== undefined
      ? { kept: { history: kept, logger: opts.logger } }
      : {}),
  });
  owner.on?.("broker", (connected, lastHeardAt, how) => feed.broker(connected, lastHeardAt, how));
  registry.rereading = (under) => feed.reread(under);
  return feed;
}
