/**
 * The settle as the user sees it. After the presses stop, a run waits at least --settle for the
 * deliveries in flight; after faults it goes on while they end and the fleet recovers, up to a bound.
 * This module owns what that wait is shown as: a status the run fills in, and one line of text for
 * the console's footer and the progress lines, on whatever clock the caller passes.
 */

import { after, type Scheduler } from "../node/scheduler.js";
import { DISCONNECT_SLACK_MS } from "../sim/recovery.js";
import type { Collector } from "./collector.js";
import { REORDER_WINDOW_MS } from "./collector.js";
import type { RegistrationSource } from "./registrations.js";

/**
 * The settle goes on past --settle while faults end and the fleet recovers, at most this much longer:
 * a W5100 that timed out in a partition takes up to ~40 s to be back (31.8 s retransmissions, the
 * 5 s reconnect period, the 1.5 s sync grace).
 */
export const RECOVERY_WAIT_MAX_MS = 120_000;

/**
 * Past --settle, the fleet must look recovered this long before the settle ends: the collector sees
 * a node's events this late (its reorder window), and a connection that drops this soon after a
 * fault's end is the fault's (the analysis's slack). A node that came back from a partition and lost
 * its connection again 0.9 s later ended a run "never back" when the first look was taken as final.
 */
export const QUIET_HOLD_MS = REORDER_WINDOW_MS + DISCONNECT_SLACK_MS;

export interface SettleStatus {
  /** The settle ends no earlier than this (ms, the run's clock)… */
  readonly minUntil: number;
  /** …and no later than this: past minUntil only while faults end and the fleet recovers. */
  readonly maxUntil: number;
  /** Deliveries owed to followers (presses still travelling). */
  readonly inFlight: number;
  /**
   * Deliveries owed for more than 5 s (late, or lost for good): waited for in case they still come.
   * Absent: none counted (a part of a split virtual run).
   */
  readonly overdue?: number;
  /** Faults still in progress. */
  readonly faults: number;
  /** Nodes of the fleet not back yet (not synced, or not registered with the twins). */
  readonly notBack: number;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Seconds left until `at`, rounded up so the countdown reaches 0 only when the time is up. */
export function secondsLeft(at: number, now: number): number {
  return Math.max(0, Math.ceil((at - now) / 1000));
}

/**
 * e.g. `settling: 7 s left, 3 deliveries in flight`, or past --settle
 * `settling: waiting for 1 fault to end, 4 nodes to be back; 95 s at most`.
 */
export function settleLine(s: SettleStatus, now: number): string {
  const waits = [
    ...(s.faults > 0 ? [`${plural(s.faults, "fault")} to end`] : []),
    ...(s.notBack > 0 ? [`${plural(s.notBack, "node")} to be back`] : []),
    ...(s.inFlight > 0 ? [`${plural(s.inFlight, "delivery", "deliveries")} in flight`] : []),
    ...((s.overdue ?? 0) > 0
      ? [`${plural(s.overdue ?? 0, "delivery", "deliveries")} overdue (not reflected after 5 s)`]
      : []),
  ];
  if (now < s.minUntil) {
    const left = secondsLeft(s.minUntil, now);
    const inFlight = s.inFlight > 0 ? `, ${plural(s.inFlight, "delivery", "deliveries")} in flight` : "";
    const more =
      s.maxUntil > s.minUntil
        ? ` (then up to ${secondsLeft(s.maxUntil, s.minUntil)} s more while the fleet recovers)`
        : "";
    return `settling: ${left} s left${inFlight}${more}`;
  }
  if (waits.length === 0) return "settling: done, writing the report";
  return `settling: waiting for ${waits.join(", ")}; ${secondsLeft(s.maxUntil, now)} s at most`;
}

/**
 * The settle's wait: until `minUntil`, then on until `over()` holds or `maxUntil` has passed;
 * cut() ends it at once. Times and timers are on the run's scheduler.
 */
export class SettleWait {
  private cutNow = false;
  private wakeUp: (() => void) | undefined;

  constructor(
    readonly minUntil: number,
    readonly maxUntil: number,
    private readonly sched: Scheduler,
  ) {}

  cut(): void {
    this.cutNow = true;
    this.wakeUp?.();
  }

  /** The status shown now; after stop() the settle ends at minUntil (no waiting for recovery). */
  status(
    stopped: boolean,
    now: Pick<SettleStatus, "inFlight" | "overdue" | "faults" | "notBack">,
  ): SettleStatus {
    return {
      minUntil: this.minUntil,
      maxUntil: stopped ? this.minUntil : this.maxUntil,
      inFlight: now.inFlight,
      ...(now.overdue !== undefined ? { overdue: now.overdue } : {}),
      faults: now.faults,
      notBack: Math.max(0, now.notBack),
    };
  }

  /** Resolves when the settle is over; `onExtend` is called once if it goes on past minUntil. */
  async wait(over: () => boolean, onExtend: () => void): Promise<void> {
    let said = false;
    /** Since when `over()` has held at every look (past minUntil, with room to wait for recovery). */
    let overSince: number | undefined;
    for (;;) {
      const now = this.sched.now();
      if (this.cutNow) return;
      if (now >= this.minUntil) {
        if (now >= this.maxUntil) return;
        if (over()) {
          overSince ??= now;
          if (now - overSince >= QUIET_HOLD_MS) return;
        } else {
          overSince = undefined;
          if (!said) {
            said = true;
            onExtend();
          }
        }
      }
      await new Promise<void>((resolve) => {
        // Every 200 ms (sooner to meet minUntil): past it, a 1 ms poll would only burn the CPU.
        const t = after(this.sched, now < this.minUntil ? Math.min(200, this.minUntil - now) : 200, resolve);
        this.wakeUp = () => {
          t.cancel();
          resolve();
        };
      });
    }
  }
}

/** No fault in progress, every node synced and registered since it was cut (recovered), nothing owed. */
export function fleetQuiet(
  faults: { readonly inProgress: number },
  source: Pick<RegistrationSource, "up">,
  collector: Collector,
  nodes: number,
): boolean {
  if (faults.inProgress > 0 || !source.up) return false;
  const back = collector.synced.size === nodes && collector.timeline.allBackSinceCut();
  const c = collector.checker.counts();
  return back && c.pending === 0 && c.lost === c.late + c.lostForGood;
}
