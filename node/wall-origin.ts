/**
 * The date at which `performance.now()` reads 0, found from the wall clock itself, with the bound
 * its reads prove. Node's own `performance.timeOrigin` reads the monotonic clock and the wall clock
 * one after the other as the process (or thread) starts, and a thread held off its core between the
 * two reads puts it out by as long: 4.2 ms for one of 60 processes started on this 2-core host with
 * both cores busy, 1.3 s for one of 150, so two processes on one host disagreed on what time it was
 * (shard reports' clock offsets).
 *
 * Here the wall clock's millisecond is watched until it turns over. The turn to `d` came after the
 * wall read before it and no later than the wall read that saw it, and each wall read lies between
 * two monotonic reads, so the origin lies in `[d − after, d − before]`: `before` the monotonic read
 * ahead of the last wall read that still gave the old millisecond, `after` the one behind the wall
 * read that gave `d`. On a thread left on its core that bracket is a few microseconds wide; a thread
 * held off its core (or a garbage collection) anywhere in it widens it by as long, so the bracket
 * says so instead of the origin being wrong. Turns are watched until one's bracket is at most
 * `wantMs` wide (the first, nearly always), the narrowest is kept, and its half width is the stated
 * uncertainty. Before, the median of five turns' `d − p` (one monotonic read `p` before the wall read)
 * was taken: a thread held off its core between the two reads put a turn out by the hold, one held
 * just before them by up to a millisecond, and under load three of five turns could be so.
 *
 * A wall clock that has not turned for `maxTurns` ms since the last turn seen (or the start) is taken
 * as stopped. That time used to run from the start of the watch: a thread held off its core longer
 * than that inside its first turn (262 ms, 3 processes of 75 started beside 3 busy loops on this
 * 2-core host) saw that turn, hundreds of ms wide, then ended the watch at once on it, as if the clock
 * had stopped, and gave its middle: its clock up to half the hold off its host's date (a shard's clock
 * 20 ms off its host's, measured so by the merge), stated so. Now it watches on for a narrow turn.
 */

/** The origin found and the half width of the bracket it is the middle of: it is that close. */
export interface WallOrigin {
  /** The date (ms since the Unix epoch, fractional) at which the monotonic clock reads 0. */
  readonly origin: number;
  /** The origin is within this many ms of the true one, as proved by the reads. */
  readonly uncertaintyMs: number;
}

/** A turn's bracket this wide or narrower ends the watch: the origin to 0.025 ms. */
export const WALL_ORIGIN_WANT_MS = 0.05;
/** Turns watched at most (about a millisecond each) before the narrowest one seen is taken. */
export const WALL_ORIGIN_MAX_TURNS = 200;

/**
 * `date`: ms since the Unix epoch in whole ms (Date.now); `perf`: the monotonic ms (performance.now).
 * Spins about a millisecond when the thread keeps its core, at most `maxTurns` ms of turns when not.
 * A wall clock that does not turn over at all in `maxTurns` ms (a frozen clock) gives the bound one
 * read proves, a millisecond wide.
 */
export function wallOrigin(
  date: () => number,
  perf: () => number,
  wantMs = WALL_ORIGIN_WANT_MS,
  maxTurns = WALL_ORIGIN_MAX_TURNS,
): WallOrigin {
  let best: WallOrigin | undefined;
  let turns = 0;
  let before = perf();
  let last = date();
  // The last turn seen, or the watch's start: a clock that has not turned for `maxTurns` ms since is frozen.
  let turnedAt = before;
  while (turns < maxTurns) {
    const p = perf();
    const d = date();
    if (d > last) {
      const after = perf();
      turns++;
      turnedAt = after;
      const half = (after - before) / 2;
      if (best === undefined || half < best.uncertaintyMs) {
        best = { origin: d - (before + after) / 2, uncertaintyMs: half };
      }
      if (half * 2 <= wantMs) break;
    } else if (p - turnedAt > maxTurns) {
      // A clock that stopped turning after a turn: the narrowest turn seen is as good as it gets.
      if (best !== undefined) return best;
      // `d <= date at this read < d + 1`, the read being between `p` and the next monotonic read.
      const after = perf();
      return { origin: d + (1 - p - after) / 2, uncertaintyMs: (1 + after - p) / 2 };
    }
    // A wall clock set back while it is watched gives no turn: this read starts the next one.
    before = p;
    last = d;
  }
  return best as WallOrigin;
}
