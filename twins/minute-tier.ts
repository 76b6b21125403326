/**
 * The convergence history's long tier: one point a minute, for MINUTES_KEPT minutes (48 h), beside
 * the feed's fine series (`historyCapacity` points, a few minutes on a busy fleet). A minute keeps
 * the lowest in-sync share judged in it (not the mean: a dip of seconds must not be averaged away),
 * with its counts, the lowest count of followers online, and whether the broker was away or the
 * service not running for some of it: enough to answer "was the fleet in sync during last night's
 * broker outage?" the next morning. Minutes start on multiples of MINUTE_MS of the service's clock
 * (the wall clock's minutes on a real one). Kept in the history file beside the fine points
 * (twins/history-file.ts, twins/history-keeper.ts).
 */
import { STALL_MIN_MS } from "../node/stall-watch.js";
import type { Scheduler, Timer } from "./clock.js";
import type { SeriesPoint } from "./types.js";

export const MINUTE_MS = 60_000;
/**
 * 48 h of minutes: last night is still there the next evening, and across a day off. 2,880 points
 * of some 80 bytes: about 230 kB in memory, in the file and in one `/api/convergence/minutes` answer.
 */
export const MINUTES_KEPT = 2_880;

/** One minute of the long tier. */
export interface MinutePoint {
  /** The minute's start, on the service's clock (a multiple of MINUTE_MS). */
  readonly t: number;
  /**
   * The lowest in-sync share judged in the minute (followers known, some of them online, the broker
   * there), with its `inSync` of `known`; absent when nothing was judged in it.
   */
  readonly fraction?: number;
  readonly inSync?: number;
  readonly known?: number;
  /** The lowest count of followers online in the minute, where the service knows presence. */
  readonly online?: number;
  /** The broker was away (lost, silent, not reached) for some of the minute: nothing was heard then. */
  readonly away?: true;
  /**
   * The twins service was not running for some of the minute: a restart (from the kept history), or
   * its host stopped or paused it (its minute timer came STALL_MIN_MS late or more).
   */
  readonly down?: true;
}

export const minuteOf = (t: number): number => Math.floor(t / MINUTE_MS) * MINUTE_MS;

/** A minute being gathered: the lowest of the states it saw. */
class Minute {
  private low: SeriesPoint | undefined;
  private online: number | undefined;
  away = false;
  down = false;

  constructor(readonly t: number) {}

  /** The share was `p` at some moment of the minute. */
  see(p: SeriesPoint | undefined): void {
    if (p === undefined) return;
    if (p.online !== undefined && p.known > 0) this.online = Math.min(this.online ?? p.online, p.online);
    const judged = p.known > 0 && (p.online === undefined || p.online > 0);
    if (judged && (this.low === undefined || p.fraction < this.low.fraction)) this.low = p;
  }

  point(): MinutePoint {
    const { low } = this;
    return {
      t: this.t,
      ...(low !== undefined ? { fraction: low.fraction, inSync: low.inSync, known: low.known } : {}),
      ...(this.online !== undefined ? { online: this.online } : {}),
      ...(this.away ? { away: true } : {}),
      ...(this.down ? { down: true } : {}),
    };
  }
}

/** A restart's marker (SeriesPoint.stoppedUntil) that says the service was not running at `t`. */
const stoppedAt = (p: SeriesPoint | undefined, t: number): boolean =>
  p?.stoppedUntil !== undefined && p.t <= t && t < p.stoppedUntil;

/** The minute starting at `m`, from the state carried into it and the fine points added in it. */
function gathered(m: number, carried: SeriesPoint | undefined, within: readonly SeriesPoint[]): Minute {
  const minute = new Minute(m);
  if (stoppedAt(carried, m)) minute.down = true;
  else minute.see(carried);
  for (const p of within) {
    minute.see(p);
    if (p.stoppedUntil !== undefined && p.stoppedUntil > p.t) minute.down = true;
  }
  return minute;
}

/**
 * The minutes from `from` to `to` (minute starts, `to` excluded) made from the fine series `points`
 * (oldest first, restart markers in it): what a restart rebuilds of the minutes the file did not
 * hold yet (those of the last seconds before a kill, the stretch the service was not running, or
 * all of them from a history written before the long tier).
 */
export function minutesFrom(points: readonly SeriesPoint[], from: number, to: number): MinutePoint[] {
  const out: MinutePoint[] = [];
  let i = 0;
  let carried: SeriesPoint | undefined;
  for (let m = from; m < to; m += MINUTE_MS) {
    while (i < points.length && (points[i]?.t ?? 0) < m) carried = points[i++];
    const within: SeriesPoint[] = [];
    let j = i;
    while (j < points.length && (points[j]?.t ?? 0) < m + MINUTE_MS) within.push(points[j++] as SeriesPoint);
    out.push(gathered(m, carried, within).point());
  }
  return out;
}

export interface MinuteTierDeps {
  readonly scheduler: Scheduler;
  readonly capacity: number;
  /** The closed minutes restored (twins/history-keeper.ts), oldest first, the last before now's. */
  readonly restored: readonly MinutePoint[];
  /** The fine series' last point as restored (a restart's marker, where there was one). */
  readonly last?: SeriesPoint;
  /** A minute was closed: to be kept. */
  readonly closed?: (m: MinutePoint) => void;
}

/** The long tier as the service runs: fed by the feed's points and the broker's comings and goings. */
export class MinuteTier {
  private readonly minutes: MinutePoint[];
  private open: Minute;
  private held: SeriesPoint | undefined;
  private brokerAway = false;
  private timer: Timer | undefined;

  constructor(private readonly deps: MinuteTierDeps) {
    const start = minuteOf(deps.scheduler.now());
    this.minutes = deps.restored.filter((m) => m.t < start).slice(-deps.capacity);
    this.held = deps.last;
    // A restart within the minute: its marker is in it (the service was down for part of it).
    const last = deps.last;
    this.open =
      last !== undefined && last.t >= start ? gathered(start, undefined, [last]) : gathered(start, last, []);
    this.arm();
  }

  /** The closed minutes and the one under way, oldest first. */
  all(): MinutePoint[] {
    return [...this.minutes, this.open.point()];
  }

  /** The closed minutes only, oldest first: what the file holds. */
  closedMinutes(): readonly MinutePoint[] {
    return this.minutes;
  }

  /** The feed added (or put in the last one's place) the point `p`: the share from now on. */
  added(p: SeriesPoint): void {
    this.held = p;
    this.open.see(p);
  }

  /** The broker was lost (`connected` false: lost, silent, not reached) or is back. */
  broker(connected: boolean): void {
    this.brokerAway = !connected;
    if (connected) this.open.see(this.held);
    else this.open.away = true;
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  private arm(): void {
    this.timer = this.deps.scheduler.at(this.open.t + MINUTE_MS, () => this.tick());
  }

  /**
   * Closes the minute under way and opens the next. A timer late by STALL_MIN_MS or more means the
   * service did not run from the minute's end to now (its host stopped it, or was too loaded to run it):
   * nothing was measured then, so the minute it stopped in is closed `down` (its share the one
   * measured before the stop), each minute it slept through `down` with no share, and the one it
   * wakes in `down` too (its share the one held, as at a restart's minute).
   */
  private tick(): void {
    const due = this.open.t + MINUTE_MS;
    const now = this.deps.scheduler.now();
    const next = Math.max(due, minuteOf(now));
    const late = now - due >= STALL_MIN_MS;
    // Late, the service was not running when the minute ended: it stopped within it, so the minute is
    // down too (its share the one measured before the stop), not told as measured to its end.
    if (late) this.open.down = true;
    this.close(this.open.point());
    if (late)
      for (let m = Math.max(due, next - this.deps.capacity * MINUTE_MS); m < next; m += MINUTE_MS)
        this.close({ t: m, down: true });
    this.open = new Minute(next);
    this.open.down = late;
    if (this.brokerAway) this.open.away = true;
    else this.open.see(this.held);
    this.arm();
  }

  private close(m: MinutePoint): void {
    this.minutes.push(m);
    if (this.minutes.length > this.deps.capacity) this.minutes.shift();
    this.deps.closed?.(m);
  }
}
