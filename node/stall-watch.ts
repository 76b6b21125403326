/**
 * Whether this process itself did not run for a while: stopped (SIGSTOP, Ctrl-Z), its VM paused, its
 * host swapping, a long GC pause. Its sockets stay open and its clock runs on meanwhile, so when it
 * runs again every timer that came due fires at once, before it reads what waited in its sockets: a
 * keepalive, a silence check, a press due. What those tell then is the process's own stall, not the
 * broker's or the fleet's. A watch ticks on the process's scheduler; a tick (or a question asked
 * before the tick could run) far later than its timers allow is a stall, kept with when it began and
 * ended. One per scheduler of real time (`stallWatchOf`); virtual time cannot stall and has none.
 */
import { RealScheduler, type Scheduler, type Timer } from "./scheduler.js";

/** How often the watch ticks (ms). */
export const STALL_TICK_MS = 250;
/**
 * A tick this much later than its time (ms) is a stall: forty times the p99 lag beyond which a run no
 * longer kept up (fleet/lag.ts), and less than any silence the process judges a peer by (5 s).
 */
export const STALL_MIN_MS = 2_000;
/**
 * How long after a stall (ms) what the process noticed is still the stall's: the timers that came due
 * fire in the first turns after it, and a connection that timed out meanwhile takes a reconnect.
 */
export const STALL_AFTERMATH_MS = 3_000;

/**
 * A loss of a connection noticed in a stall or just after it (STALL_AFTERMATH_MS), and back this long
 * (ms) after the stall ended, is the stall's: the connection reconnects within a few seconds once the
 * process runs again. Back later, the peer was away too: an outage of its own after all.
 */
export const STALL_RECONNECT_MS = 10_000;

/** One time the process did not run: from `startMs` to `endMs` on the watch's scheduler. */
export interface Stall {
  readonly startMs: number;
  readonly endMs: number;
}

export class StallWatch {
  private readonly stalls: Stall[] = [];
  private readonly listeners: ((s: Stall) => void)[] = [];
  private lastRan: number;
  private timer: Timer | undefined;

  constructor(
    private readonly sched: Scheduler,
    private readonly tickMs = STALL_TICK_MS,
    private readonly minMs = STALL_MIN_MS,
  ) {
    this.lastRan = sched.now();
    this.arm();
  }

  private arm(): void {
    // Held weakly by its timer: a watch no one can ask any more (its run over, its scheduler gone)
    // stops ticking, with no close to call.
    const self = new WeakRef(this);
    const tick = (): void => {
      const w = self.deref();
      w?.check();
      w?.arm();
    };
    const at = this.lastRan + this.tickMs;
    this.timer = this.sched.atIdle ? this.sched.atIdle(at, tick) : this.sched.at(at, tick);
  }

  /**
   * Looks now: a stall that has just ended (the process runs again and this is among the first
   * things it does) is recorded now, before the watch's own tick comes round. For whoever is about
   * to judge something the stall may explain.
   */
  check(): void {
    const now = this.sched.now();
    if (now - this.lastRan - this.tickMs >= this.minMs) {
      const s = { startMs: this.lastRan + this.tickMs, endMs: now };
      this.stalls.push(s);
      for (const fn of this.listeners) fn(s);
    }
    this.lastRan = now;
  }

  /** Calls `fn` with each stall as it is found, until the function returned is called. */
  onStall(fn: (s: Stall) => void): () => void {
    this.listeners.push(fn);
    return () => {
      const i = this.listeners.indexOf(fn);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** The stalls so far, oldest first. */
  list(): readonly Stall[] {
    this.check();
    return this.stalls;
  }

  /**
   * The stall that explains what was noticed at `atMs`: one under way then, or ended at most
   * `aftermathMs` before.
   */
  explaining(atMs: number, aftermathMs = STALL_AFTERMATH_MS): Stall | undefined {
    this.check();
    return this.stalls.find((s) => s.startMs <= atMs && atMs <= s.endMs + aftermathMs);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }
}

const watches = new WeakMap<Scheduler, StallWatch>();

/**
 * The stall watch of a real-time scheduler (made on first use, one per scheduler); none on virtual
 * time (a `FakeScheduler`: it does not run on the host's clock, and a timer of its own would change
 * what runs when).
 */
export function stallWatchOf(sched: Scheduler): StallWatch | undefined {
  if (!(sched instanceof RealScheduler)) return undefined;
  let w = watches.get(sched);
  if (w === undefined) {
    w = new StallWatch(sched);
    watches.set(sched, w);
  }
  return w;
}

/** How long a stall lasted, as told: `20.0`, in seconds. */
export function stallSeconds(s: Stall): string {
  return ((s.endMs - s.startMs) / 1000).toFixed(1);
}

/**
 * Whether an outage of a connection was the process's own stall, kept from its start to its end: the
 * stall that explains its loss, kept if it is back soon enough after the stall.
 */
export class StallOutage {
  private stall: Stall | undefined;

  constructor(private readonly watch: StallWatch | undefined) {}

  /**
   * The connection told lost (or silent) at `atMs` (`fresh`: it was up until then), or back (`up`):
   * the stall the outage is, or, back too long after the stall it was noticed in, that stall
   * (`outlasted`: the peer was away too).
   */
  told(up: boolean, fresh: boolean, atMs: number): { stall?: Stall; outlasted?: Stall } {
    if (!up) {
      if (fresh || this.stall === undefined) this.stall = this.watch?.explaining(atMs);
      return this.stall === undefined ? {} : { stall: this.stall };
    }
    const s = this.stall;
    this.stall = undefined;
    if (s === undefined) return {};
    return atMs <= s.endMs + STALL_RECONNECT_MS ? { stall: s } : { outlasted: s };
  }
}

/** A stretch of time on the scheduler's clock; `endMs` undefined while it lasts. */
export interface Stretch {
  readonly startMs: number;
  readonly endMs: number | undefined;
}

/** How long of `fromMs`..`toMs` the `stretches` cover together, overlaps counted once (ms). */
export function coveredWithin(stretches: readonly Stretch[], fromMs: number, toMs: number): number {
  const clipped = stretches
    .map((s) => [Math.max(s.startMs, fromMs), Math.min(s.endMs ?? toMs, toMs)] as const)
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  let ms = 0;
  let reached = fromMs;
  for (const [a, b] of clipped) {
    if (b <= reached) continue;
    ms += b - Math.max(a, reached);
    reached = b;
  }
  return ms;
}

/**
 * How long the process ran on `sched` from `sinceMs` until now (ms), the stalls `watch` finds not
 * counted: for a judge of how long something has waited (a write its disk has not answered), which
 * a process that did not run could not have seen answered. Without a watch (virtual time), the time
 * since `sinceMs`.
 */
export function ranSince(sched: Scheduler, watch: StallWatch | undefined, sinceMs: number): number {
  const now = sched.now();
  return now - sinceMs - coveredWithin(watch?.list() ?? [], sinceMs, now);
}

/**
 * Runs `fn` once the process has run for `ms` on `sched`, the stalls `watch` finds (time it was
 * stopped, its VM paused) not counted: for a wait that gives someone else time to act (a broker to
 * publish wills), which a process that did not run could not have seen them do. A plain `after` ran
 * at once when the process ran again, the stall spent as waiting. `alsoOut` tells more stretches not
 * counted (the broker answering nothing: fleet/ids-in-use.ts); one that lasts holds `fn` until it
 * ends. `holdUntil`, asked once the time is up, may put `fn` off to a moment it names (a broker
 * silent, not yet told lost: the moment its probe decides), when the count is made again. Its
 * `cancel` stops it; `stalledMs` tells how much it has left out so far. Without a watch (virtual
 * time) and with no `alsoOut` nor `holdUntil`, it is `after`.
 */
export function afterRunning(
  sched: Scheduler,
  ms: number,
  fn: () => void,
  watch: StallWatch | undefined = stallWatchOf(sched),
  alsoOut: () => readonly Stretch[] = () => [],
  holdUntil: (nowMs: number) => number | undefined = () => undefined,
): Timer & { stalledMs(): number } {
  const startMs = sched.now();
  let timer: Timer | undefined;
  const stalledMs = () => coveredWithin([...(watch?.list() ?? []), ...alsoOut()], startMs, sched.now());
  const arm = (atMs: number) => {
    timer = sched.at(atMs, () => {
      const ran = sched.now() - startMs - stalledMs();
      const held = ran >= ms ? holdUntil(sched.now()) : undefined;
      if (held !== undefined && held > sched.now()) arm(held);
      else if (ran >= ms) fn();
      else arm(sched.now() + (ms - ran));
    });
  };
  arm(startMs + ms);
  return {
    cancel: () => timer?.cancel(),
    stalledMs,
  };
}
