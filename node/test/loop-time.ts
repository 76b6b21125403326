/**
 * Deadlines on the time this process's event loop was free to run, not on the wall clock. The fuzz
 * soak's broker, its connections and its healthy client share one loop with whatever else the host
 * runs: on a busy host (load average 21-29 on 2 cores) that loop fell seconds behind, and a wait timed
 * on the wall clock ended before the broker in the same process had read what it was to answer, or
 * before the answer, already sent, had been read (230 of 300 connections judged "unanswered" after
 * 8 s, a healthy round trip "not back within 5000 ms"). Here the time the loop fell behind, sampled
 * every SAMPLE_MS while a deadline is pending, is added to that deadline: a broker that does not
 * answer while the loop is free still misses it by the same margin. The twins tests' waits
 * (twins/test/helpers.ts `until`) are timed so too.
 */

/** How often the loop's lateness is sampled while a deadline is pending. */
const SAMPLE_MS = 10;

/** The process's loop lag, summed while at least one deadline is pending. */
const watch = {
  users: 0,
  lagMs: 0,
  last: 0,
  timer: undefined as NodeJS.Timeout | undefined,
};

function tick(): void {
  const now = performance.now();
  watch.lagMs += Math.max(0, now - watch.last - SAMPLE_MS);
  watch.last = now;
  watch.timer = setTimeout(tick, SAMPLE_MS);
}

/** The lag summed so far, with the stall under way since the last sample (if the loop is in one). */
function lagNow(): number {
  return watch.lagMs + Math.max(0, performance.now() - watch.last - SAMPLE_MS);
}

function acquire(): void {
  if (watch.users++ > 0) return;
  watch.last = performance.now();
  watch.timer = setTimeout(tick, SAMPLE_MS);
}

function release(): void {
  if (--watch.users > 0) return;
  clearTimeout(watch.timer);
  watch.timer = undefined;
}

export interface LoopDeadline {
  cancel(): void;
}

/**
 * Calls `fire` once `ms` of the loop's own time have passed: `ms` on the wall clock plus however far
 * the loop fell behind meanwhile. Cancelled, it never fires.
 */
export function loopDeadline(ms: number, fire: () => void): LoopDeadline {
  acquire();
  let counted = lagNow();
  let timer: NodeJS.Timeout | undefined;
  const check = () => {
    const lag = lagNow();
    const behind = lag - counted;
    if (behind >= SAMPLE_MS) {
      counted = lag;
      timer = setTimeout(check, behind);
      return;
    }
    timer = undefined;
    release();
    fire();
  };
  timer = setTimeout(check, ms);
  return {
    cancel() {
      if (timer === undefined) return;
      clearTimeout(timer);
      timer = undefined;
      release();
    },
  };
}
