/**
 * A standalone twins service's routine per-node lines — each report, a node's register and its
 * coming online at its start — at debug, and one info line a minute while they come, counting them:
 * `twins: in 60 s: 5940 reports from 500 nodes; 500 registered (500 new), 500 came online, 0 went
 * offline; 500 of 500 nodes online (reports and registers each at debug)`. A line per report at
 * info made the log grow with the fleet's traffic (7,968 lines, 678 KB, a minute beside 500 nodes at
 * 2 presses a minute, about 1 GB a day), and what needs a look — a node going offline, bad input, a
 * broker lost — drowned in it.
 */
import type { Logger } from "pino";
import { after, type Scheduler, type Timer } from "../node/scheduler.js";
import type { NodeId } from "../protocol/index.js";

/** How often the summary is written while anything it counts comes. */
export const ACTIVITY_WINDOW_MS = 60_000;

/** The fleet as the summary states it at its end. */
export interface FleetCount {
  readonly online: number;
  readonly known: number;
}

export class ActivityLog {
  private reports = 0;
  private readonly reporting = new Set<NodeId>();
  private registered = 0;
  private fresh = 0;
  private came = 0;
  private reheard = 0;
  private left = 0;
  private since = 0;
  private timer: Timer | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly sched: Scheduler,
    private readonly fleet: () => FleetCount,
  ) {}

  /** A report that is a change (not one the broker held): at debug. */
  report(node: NodeId, fields: Record<string, unknown>): void {
    this.logger.debug(fields, "report");
    this.reports++;
    this.reporting.add(node);
    this.arm();
  }

  /** A register that tells nothing an operator must read (not a changed identity): at debug. */
  registeredQuietly(fields: Record<string, unknown>, first: boolean): void {
    this.logger.debug(fields, "registered");
    this.registered++;
    if (first) this.fresh++;
    this.arm();
  }

  /** A node online that the service had not seen go offline (its start, a new node): at debug. */
  cameOnline(node: NodeId): void {
    this.logger.debug({ node }, "online");
    this.came++;
    this.arm();
  }

  /**
   * A node shown unheard since the broker restarted (twins/node-presence.ts), heard again: at debug.
   * It was online before the restart and only confirmed it; it was counted as come online (`12 came
   * online` for a fleet of 6 that came back once and lived through one broker restart).
   */
  heardAgain(node: NodeId): void {
    this.logger.debug({ node }, "heard again");
    this.reheard++;
    this.arm();
  }

  /** Counts a node that came back or went offline, whose line the caller writes at info. */
  presence(online: boolean): void {
    if (online) this.came++;
    else this.left++;
    this.arm();
  }

  /** Writes the summary under way (its minute passed, or the service stops). */
  flush(): void {
    this.timer?.cancel();
    this.timer = undefined;
    if (this.reports + this.registered + this.came + this.reheard + this.left === 0) return;
    const seconds = Math.round((this.sched.now() - this.since) / 1000);
    const { online, known } = this.fleet();
    const fresh = this.fresh > 0 ? ` (${this.fresh} new)` : "";
    const reheard = this.reheard > 0 ? `, ${this.reheard} heard again after the broker restarted` : "";
    this.logger.info(
      {
        seconds,
        reports: this.reports,
        reporting: this.reporting.size,
        registered: this.registered,
        new: this.fresh,
        came: this.came,
        reheard: this.reheard,
        left: this.left,
        online,
        known,
      },
      `twins: in ${seconds} s: ${this.reports} reports from ${this.reporting.size} nodes; ${this.registered} registered${fresh}, ${this.came} came online${reheard}, ${this.left} went offline; ${online} of ${known} nodes online (reports and registers each at debug)`,
    );
    this.reports = 0;
    this.reporting.clear();
    this.registered = 0;
    this.fresh = 0;
    this.came = 0;
    this.reheard = 0;
    this.left = 0;
  }

  private arm(): void {
    if (this.timer !== undefined) return;
    this.since = this.sched.now();
    this.timer = after(this.sched, ACTIVITY_WINDOW_MS, () => this.flush());
  }
}
