/**
 * The states a standalone twins service takes from the broker when it subscribes — the retained
 * reports and configs the broker replays, and the nodes' first reports after it — in its log: each at
 * debug, and one info line counting them once they stop coming for a second. They are what stood,
 * not what changed: beside a 500-node fleet every start wrote a `report` and a `config` line per
 * node at info (1,000 of its 3,500 lines), 40,000 for a 20,000-node fleet.
 */
import type { Logger } from "pino";
import { after, type Scheduler, type Timer } from "../node/scheduler.js";

/** How long no replayed state must have come before the count is written. */
export const REPLAYED_QUIET_MS = 1000;

export class ReplayedLog {
  private reports = 0;
  private configs = 0;
  private timer: Timer | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly sched: Scheduler,
  ) {}

  /** A replayed report or config of `node`. */
  replayed(change: "report" | "config", fields: Record<string, unknown>): void {
    this.logger.debug(fields, `${change} (replayed)`);
    if (change === "report") this.reports++;
    else this.configs++;
    this.timer?.cancel();
    this.timer = after(this.sched, REPLAYED_QUIET_MS, () => this.flush());
  }

  /** Writes the count under way (the quiet second passed, or the service stops). */
  flush(): void {
    this.timer?.cancel();
    this.timer = undefined;
    if (this.reports === 0 && this.configs === 0) return;
    this.logger.info(
      { reports: this.reports, configs: this.configs },
      `the fleet's state as the service found it: ${this.reports} reports and ${this.configs} configs (the broker's copies, or a node's first report since; each at debug)`,
    );
    this.reports = 0;
    this.configs = 0;
  }
}
