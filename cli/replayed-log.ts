/**
 * The states a standalone twins service takes from the broker when it subscribes — the retained
 * reports and configs the broker replays, and the nodes' first reports after it — in its log: each at
 * debug, and one info line counting them once they stop coming for a second. They are what stood,
 * not what changed: beside a 500-node fleet every start wrote a `report` and a `config` line per
 * node at info (1,000 of its 3,500 lines), 40,000 for a 20,000-node fleet. The count is of every
 * state that stood, and apart of those other than the service held: it counted only the latter,
 * and after a broker restart that replayed every pairing it said `0 configs`, read as the broker
 * having lost them.
 */
import type { Logger } from "pino";
import { after, type Scheduler, type Timer } from "../node/scheduler.js";

/** How long no replayed state must have come before the count is written. */
export const REPLAYED_QUIET_MS = 1000;

type Counts = Record<"report" | "config", number>;

export class ReplayedLog {
  /** Every state that stood, and those of them other than what the service held. */
  private seen: Counts = { report: 0, config: 0 };
  private changed: Counts = { report: 0, config: 0 };
  private timer: Timer | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly sched: Scheduler,
  ) {}

  /** A report or config of a node that stood, the same as the twin's or not. */
  stood(change: "report" | "config"): void {
    this.seen[change]++;
    this.quietFrom();
  }

  /** One of them that changed what the service held (it was told `stood` too); an older one does not. */
  replayed(change: "report" | "config", fields: Record<string, unknown>): void {
    this.logger.debug(fields, `${change} (replayed)`);
    this.changed[change]++;
    this.quietFrom();
  }

  /** Writes the count under way (the quiet second passed, or the service stops). */
  flush(): void {
    this.timer?.cancel();
    this.timer = undefined;
    const { seen, changed } = this;
    if (seen.report + seen.config + changed.report + changed.config === 0) return;
    const { report: reports, config: configs } = seen;
    const differ =
      changed.report + changed.config === 0
        ? "none changed what the service held"
        : changed.report === reports && changed.config === configs
          ? "all new to the service (each at debug)"
          : `${counted(changed.report, "report")} and ${counted(changed.config, "config")} changed what the service held (each at debug)`;
    this.logger.info(
      { reports, configs, reportsChanged: changed.report, configsChanged: changed.config },
      `the fleet's state as the service found it: ${counted(reports, "report")} and ${counted(configs, "config")} (the broker's copies, or a node's first report since); ${differ}`,
    );
    this.seen = { report: 0, config: 0 };
    this.changed = { report: 0, config: 0 };
  }

  private quietFrom(): void {
    this.timer?.cancel();
    this.timer = after(this.sched, REPLAYED_QUIET_MS, () => this.flush());
  }
}

const counted = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;
