/**
 * The convergence history as a start reads it back (twins/history-file.ts holds the file's format,
 * twins/history-keeper.ts writes it as the service runs). The time the service was not running is
 * marked in the series by a point with `stoppedUntil` (from the file's last record, a clean stop's
 * or, after a kill -9, the last point or `alive` written, to this start), so a chart draws a gap
 * there and not a share held through it. Records dated after the start (the host's clock set back)
 * are left out, said, and the gap starts at the last record before it. The long tier's minutes the
 * file lacks (the last seconds before a kill, the time down, all of them after a format 1 file) are
 * rebuilt from the fine points; the broker's outages are restored, one under way at a kill ended
 * where the gap starts. Damage is said and never stops the start.
 */
import type { Logger } from "pino";
import type { AwaySpan } from "./broker-spans.js";
import type { Scheduler } from "./clock.js";
import { HISTORY_ALIVE_MS, moveAside, readHistory } from "./history-file.js";
import { MINUTE_MS, MINUTES_KEPT, type MinutePoint, minuteOf, minutesFrom } from "./minute-tier.js";
import { dateOffset } from "./stored-dates.js";
import type { SeriesPoint } from "./types.js";

export interface KeptHistory {
  readonly file: string;
  /** The series as restored, the gap of the restart marked; empty when there was none. */
  readonly points: readonly SeriesPoint[];
  /** The long tier's closed minutes as restored, up to the one the start falls in; empty when none. */
  readonly minutes: readonly MinutePoint[];
  /** The broker's outages before the start, oldest first, closed (one under way at a kill at its gap's start). */
  readonly away?: readonly AwaySpan[];
  /** False for a file that is left as it is (a newer format, unreadable): memory only. */
  readonly writable: boolean;
  /** The topic prefix of the fleet, named in the file's header. */
  readonly fleet?: string;
}

/**
 * The date minus the scheduler's time (stored-dates.ts), to the ms: two readings of a real clock a
 * few µs apart would otherwise move each date written and read back by as much.
 */
export const msOffset = (s: Scheduler): number => Math.round(dateOffset(s));

/**
 * Reads the history kept in `file` for the fleet under prefix `fleet`, saying on `logger` what it
 * found and what it leaves out.
 */
export async function restoreHistory(
  file: string,
  capacity: number,
  scheduler: Scheduler,
  logger: Logger,
  fleet?: string,
  minutesKept = MINUTES_KEPT,
): Promise<KeptHistory> {
  const now = scheduler.now();
  // The file holds dates; this scheduler's time may have another origin (a fleet run's start).
  const offset = msOffset(scheduler);
  const date = (t: number) => new Date(t + offset).toISOString();
  const kept = (
    points: SeriesPoint[],
    writable: boolean,
    minutes: MinutePoint[] = [],
    away: AwaySpan[] = [],
  ): KeptHistory => ({
    file,
    points,
    minutes,
    away,
    writable,
    ...(fleet !== undefined ? { fleet } : {}),
  });
  const read = await readHistory(file, capacity, {
    notAfter: now,
    offset,
    minutesKept,
    ...(fleet !== undefined ? { fleet } : {}),
  });
  if (read.kind === "none") return kept([], true);
  if (read.kind === "refused") {
    logger.warn(
      `twins: the convergence history ${file} is not read (${read.why}): it is left as it is, and this service keeps its history in memory only`,
    );
    return kept([], false);
  }
  if (read.kind === "foreign" || read.kind === "other-fleet") {
    try {
      const to = await moveAside(file, read.kind === "foreign" ? "damaged" : "other-fleet");
      logger.warn(
        `twins: the convergence history ${file} is not read (${read.why}): moved to ${to}, a new one is started`,
      );
      return kept([], true);
    } catch (e) {
      logger.warn(
        `twins: the convergence history ${file} is not read (${read.why}) and cannot be moved aside (${(e as Error).message}): this service keeps its history in memory only`,
      );
      return kept([], false);
    }
  }
  const { history } = read;
  if (history.bad.count > 0)
    logger.warn(
      `twins: the convergence history ${file} has ${history.bad.count} damaged line(s), left out (${history.bad.first}); the rest is read and the file written again without them`,
    );
  if (history.future.latest !== undefined)
    logger.warn(
      `twins: the convergence history ${file} has ${history.future.count} record(s) dated after this start (up to ${date(history.future.latest)}, now ${date(now)}: the host's clock was set back since they were written), left out; the gap is marked from the last record before now`,
    );
  const points = [...history.points];
  // The minute the start falls in is open again: the live tier goes on with it.
  const keptMinutes = history.minutes.filter((m) => m.t < minuteOf(now));
  const last = points.at(-1);
  // An outage under way at a kill or a stop ended, as far as anything was measured, when the service
  // did; one whose start is the file's last record (killed before anything later was written) is
  // all in the restart's gap, and left out.
  const closed = (to: number) =>
    history.away.map((s) => (s.to === undefined ? { ...s, to } : s)).filter((s) => (s.to ?? to) > s.from);
  if (last === undefined)
    return kept(points, true, keptMinutes, closed(Math.min(now, history.lastAlive ?? now)));
  const from = Math.min(now, Math.max(history.lastAlive ?? last.t, last.t));
  // The marker holds the last share measured; a re-read's `held` mark is not the gap's.
  const { stoppedUntil: _, held: _held, ...share } = last;
  const marker: SeriesPoint = { ...share, t: from, stoppedUntil: now };
  if (from === last.t) points[points.length - 1] = marker;
  else points.push(marker);
  if (points.length > capacity) points.shift();
  const minutes = [...keptMinutes, ...minutesLacking(keptMinutes, points, now, minutesKept)].slice(
    -minutesKept,
  );
  const how = history.stopped
    ? "it stopped cleanly then"
    : `it recorded no clean stop: killed, crashed, a power cut, or a clean stop it could not write down (a disk read-only or full then; that stop said so), up to ${HISTORY_ALIVE_MS / 1000} s after that, its last record`;
  logger.info(
    { points: points.length, from, to: now },
    `twins: the convergence history is restored from ${file}: ${points.length} points since ${date(points[0]?.t ?? from)}; the service was not running from ${date(from)} (${how}) to ${date(now)}, marked so in the history`,
  );
  return kept(points, true, minutes, closed(from));
}

/** The minutes the file lacks, after its last one (or from the first fine point) up to now's, rebuilt from `points`. */
function minutesLacking(
  kept: readonly MinutePoint[],
  points: readonly SeriesPoint[],
  now: number,
  minutesKept: number,
): MinutePoint[] {
  const to = minuteOf(now);
  const after = kept.at(-1);
  const from = after !== undefined ? after.t + MINUTE_MS : minuteOf(points[0]?.t ?? now);
  return minutesFrom(points, Math.max(from, to - minutesKept * MINUTE_MS), to);
}
