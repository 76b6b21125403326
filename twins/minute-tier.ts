/**
 * The convergence history's long tier: one point a minute, for MINUTES_KEPT minutes (48 h), beside
 * the feed's fine series (`historyCapacity` points, a few minutes on a busy fleet). A minute keeps
 * the lowest in-sync share judged in it (not the mean: a dip of seconds must not be averaged away),
 * with its counts, the lowest count of followers online, and whether the broker was away or the
 * service not running for some of it: enough to answer "was the fleet in sync during last night's
 * broker outage?" the next morning. Minutes start on multiples of MINUTE_MS of the service's clock
 * (the wall clock's minutes on a real one). The service's own re-read of the broker's state (a
 * subscription's replay) is not judged: the feed's points in it carry the share from before, held
 * (twins/reread-hold.ts), and a minute takes them as they come, live or rebuilt at a restart. Kept in
 * the history file beside the fine points (twins/history-file.ts, twins/history-keeper.ts).
 */
import { STALL_MIN_MS, type StallWatch } from "../node/stall-watch.js";
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
   * its host stopped or paused it for some of the minute (a stall the process's stall watch saw; without
   * one, the minute's timer STALL_MIN_MS late or more).
   */
  readonly down?: true;
  /**
   * Followers new to the service appeared in the minute (more known than at its start): nodes
   * registering (a fleet's first minute, a node added, a service without a data directory restarted).
   * A newcomer is not in sync until its first sync, so the minute's share says how far registration
   * had got (`0 of 2` as the first two followers were heard), not how the fleet kept in sync: it is
   * kept as measured, and the summary's lowest and a chart's scale leave it out.
   */
  readonly joining?: true;
}

export const minuteOf = (t: number): number => Math.floor(t / MINUTE_MS) * MINUTE_MS;

/** A minute being gathered: the lowest of the states it saw. */
class Minute {
  private low: SeriesPoint | undefined;
  private online: number | undefined;
  away = false;
  down = false;
  joining = false;

  /** `known`: the followers known as the minute began (the state carried into it). */
  constructor(
    readonly t: number,
    private known: number,
  ) {}

  /** The share was `p` at some moment of the minute. */
  see(p: SeriesPoint | undefined): void {
    if (p === undefined) return;
    if (p.known > this.known) this.joining = true;
    this.known = Math.max(this.known, p.known);
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
      ...(this.joining ? { joining: true } : {}),
    };
  }
}

/** A restart's marker (SeriesPoint.stoppedUntil) that says the service was not running at `t`. */
const stoppedAt = (p: SeriesPoint | undefined, t: number): boolean =>
  p?.stoppedUntil !== undefined && p.t <= t && t < p.stoppedUntil;

/**
 * The minute starting at `m`, from the state carried into it and the fine points added in it;
 * `known`: the followers known as it began (those of the state carried, none before the first point).
 */
function gathered(
  m: number,
  carried: SeriesPoint | undefined,
  within: readonly SeriesPoint[],
  known = carried?.known ?? 0,
): Minute {
  const minute = new Minute(m, known);
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
    // Before the series' first point (its oldest dropped past its capacity) nothing says what was known.
    out.push(gathered(m, carried, within, carried?.known ?? points[0]?.known ?? 0).point());
  }
  return out;
}

/**
 * The minute starting at `m` as the fine series `points` (oldest first) tells it: the state carried
 * into it (the last point before it) and the points in it.
 */
function minuteFrom(points: readonly SeriesPoint[], m: number): Minute {
  let carried: SeriesPoint | undefined;
  const within: SeriesPoint[] = [];
  for (const p of points) {
    if (p.t < m) carried = p;
    else if (p.t < m + MINUTE_MS) within.push(p);
  }
  return gathered(m, carried, within, carried?.known ?? points[0]?.known ?? 0);
}

export interface MinuteTierDeps {
  readonly scheduler: Scheduler;
  readonly capacity: number;
  /** The closed minutes restored (twins/history-keeper.ts), oldest first, the last before now's. */
  readonly restored: readonly MinutePoint[];
  /** The fine series' last point as restored (a restart's marker, where there was one). */
  readonly last?: SeriesPoint;
  /**
   * The fine series as restored, `last` last: the minute the start falls in is gathered from its
   * points in that minute, not from `last` alone (without them, from `last`).
   */
  readonly points?: readonly SeriesPoint[];
  /** A minute was closed: to be kept. */
  readonly closed?: (m: MinutePoint) => void;
  /**
   * The process's stall watch (node/stall-watch.ts): when a stall that made the minute's timer late
   * began. Without one (virtual time), a late timer is taken as a stop before the minute's end.
   */
  readonly stalls?: StallWatch | undefined;
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
    // A restart within the minute: its marker is in it (the service was down for part of it), and
    // so are the points measured in it before the service stopped. The minute was opened from the
    // marker alone, its lowest before the stop lost: 137 of 200 at 21:52:09, a kill -9 at 21:52:22
    // and a start at 21:52:27 made the minute 181 of 200, measured after the start.
    this.open = minuteFrom(deps.points ?? (deps.last !== undefined ? [deps.last] : []), start);
    this.arm();
  }

  /**
   * The closed minutes and the one under way, oldest first. The one under way is `down` as soon as
   * the stall watch has seen a stall in it (the process runs again): it was shown so only once the
   * minute closed, up to a minute after (tick).
   */
  all(): MinutePoint[] {
    const open = this.open.point();
    const now = this.deps.scheduler.now();
    const stalled =
      open.down !== true &&
      this.deps.stalls !== undefined &&
      this.stalledIn(this.open.t + MINUTE_MS, now)(this.open.t, Math.min(now, this.open.t + MINUTE_MS));
    return [...this.minutes, stalled ? { ...open, down: true } : open];
  }

  /** The closed minutes only, oldest first: what the file holds. */
  closedMinutes(): readonly MinutePoint[] {
    return this.minutes;
  }

  /**
   * The feed added (or put in the last one's place) the point `p`: the share from now on. A point of
   * the service's own re-read of the broker's state carries the share from before it (`held`,
   * twins/reread-hold.ts): a minute kept the re-read's half-refreshed view as its lowest (464 of 600,
   * 0.77, for the minute of a reconnect) until it held the share through it.
   */
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
   * Closes the minute under way and opens the next. The service did not run for a while (its host
   * stopped it, or was too loaded to run it): nothing was measured then, and each minute the stall
   * covered some of is `down` — the minute it began in (its share the one measured before it), each
   * one it slept through (no share), the one it woke in (the share held) — and no other. Where the
   * stall began and ended is the stall watch's (node/stall-watch.ts): it was judged by this timer's
   * lateness alone, which marked both the minute before the timer and the one it ran in for a stall
   * of 3 s that began after the minute's end, and nothing for one within a minute or that ended
   * less than STALL_MIN_MS after it. Without a watch (virtual time), a timer late by STALL_MIN_MS or
   * more is taken as a stop before the minute's end, lasting to now.
   */
  private tick(): void {
    const due = this.open.t + MINUTE_MS;
    const now = this.deps.scheduler.now();
    const next = Math.max(due, minuteOf(now));
    const stalled = this.stalledIn(due, now);
    if (stalled(this.open.t, due)) this.open.down = true;
    this.close(this.open.point());
    for (let m = Math.max(due, next - this.deps.capacity * MINUTE_MS); m < next; m += MINUTE_MS)
      this.close(stalled(m, m + MINUTE_MS) ? { t: m, down: true } : this.heldMinute(m).point());
    this.open = this.heldMinute(next);
    this.open.down = now > next && stalled(next, now);
    this.arm();
  }

  /** A minute opened with the state held (the broker away, or the share from before). */
  private heldMinute(t: number): Minute {
    const m = new Minute(t, this.held?.known ?? 0);
    if (this.brokerAway) m.away = true;
    else m.see(this.held);
    return m;
  }

  /**
   * Whether the service did not run for some of `[from, to)`, for the minute timer due at `due` and
   * run at `now`: by the stall watch's stalls (looked at now, so one that ends now is among them),
   * or without one, by the timer's lateness (a stop before `due` to `now`).
   */
  private stalledIn(due: number, now: number): (from: number, to: number) => boolean {
    const watch = this.deps.stalls;
    if (watch === undefined) {
      const late = now - due >= STALL_MIN_MS;
      return () => late;
    }
    const stalls = watch.list();
    return (from, to) => {
      for (let i = stalls.length - 1; i >= 0; i--) {
        const s = stalls[i];
        if (s === undefined || s.endMs <= from) return false;
        if (s.startMs < to) return true;
      }
      return false;
    };
  }

  private close(m: MinutePoint): void {
    this.minutes.push(m);
    if (this.minutes.length > this.deps.capacity) this.minutes.shift();
    this.deps.closed?.(m);
  }
}
