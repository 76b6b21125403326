/**
 * The driver of a virtual-time run: one FakeScheduler for the nodes, the in-memory broker, the twins
 * service and the run's own phases, run in time order. After each of the callbacks that need it —
 * the run's own timers (its phases, waits, faults, metrics) and the twins service's, and every packet
 * the twins service receives — it lets the host run the promise continuations they resolved before
 * virtual time moves on, so async code sees each message at the virtual time it arrived: a run is
 * the same for the same seed. A host turn is taken only after a callback that made or settled a
 * promise (a V8 promise hook tells): most packets are handled synchronously, and a turn for each
 * was a tenth of a large run's time. Its pace is `max` (as fast as the CPU allows; headless runs) or a
 * speed — virtual seconds per wall second — that a watching console sets, pauses and resumes.
 */
import {
  FakeScheduler,
  hostTurn,
  RealScheduler,
  type Scheduler,
  sleep,
  type Timer,
} from "../node/scheduler.js";
import type { WireFactory } from "../node/wire.js";
import { PromiseWatch } from "./promise-watch.js";

/** Host turns in a row with no timer left and the run not over before it counts as stuck. */
const IDLE_TURNS_MAX = 10_000;
/**
 * Marked callbacks in a row that made no promise before the host gets a turn anyway: nothing of the
 * run waits on it then, but its own I/O does (progress lines, a signal, the console's page).
 */
const QUIET_TURNS_MAX = 256;
/** Longest wall wait between looks at the pace (a key may change it meanwhile), ms. */
const PACE_LOOK_MS = 50;
/**
 * A paced run whose next timer is more than this far behind its pace (wall ms: the host fell short)
 * drops the debt instead of racing to catch up.
 */
const PACE_DEBT_MS = 1000;

/** Virtual seconds per wall second, or as fast as the CPU allows. */
export type Speed = number | "max";

/** The fastest set speed short of `max` (virtual seconds per wall second). */
export const SPEED_MAX = 10_000;

export interface Pace {
  readonly speed: Speed;
  readonly paused: boolean;
}

export class VirtualClock {
  readonly fake: FakeScheduler;
  /** The run's own scheduler: the fake one, marking each of its callbacks for the driver. */
  readonly sched: Scheduler;
  private marked = false;
  private readonly wallStart: number;
  private pace_: Pace = { speed: "max", paused: false };
  /** Where the pace was last set: virtual and wall ms. */
  private base = { virtual: 0, wall: 0 };

  /**
   * `epochMs`: the date virtual time 0 stands for (only what is shown as a date uses it). `wall`: the
   * clock a paced run keeps pace with (the host's; a test's fake one).
   */
  constructor(
    epochMs: number,
    private readonly wall: Scheduler = new RealScheduler(),
  ) {
    this.wallStart = wall.now();
    const fake = new FakeScheduler(0, epochMs);
    this.fake = fake;
    this.sched = {
      now: () => fake.now(),
      wallNow: () => fake.wallNow(),
      at: (atMs: number, fn: () => void): Timer =>
        fake.at(atMs, () => {
          this.marked = true;
          fn();
        }),
    };
  }

  /** `factory`'s connections, each packet they deliver marked: async code reads it at its time. */
  markingWire(factory: WireFactory): WireFactory {
    return (h) =>
      factory({
        packet: (bytes) => {
          this.marked = true;
          h.packet(bytes);
        },
        closed: (refused) => {
          this.marked = true;
          h.closed(refused);
        },
      });
  }

  get pace(): Pace {
    return this.pace_;
  }

  /** Sets the speed and whether virtual time is paused; the pace counts from now. */
  setPace(p: Pace): void {
    if (p.speed !== "max" && !(p.speed > 0)) {
      throw new RangeError(
        `speed must be a positive number of virtual seconds per second or "max", got ${p.speed}`,
      );
    }
    if (p.speed !== "max" && p.speed > SPEED_MAX) {
      throw new RangeError(`speed ${p.speed} is past the fastest set speed, ${SPEED_MAX}: use "max"`);
    }
    this.pace_ = { speed: p.speed, paused: p.paused };
    this.base = { virtual: this.fake.now(), wall: this.wall.now() };
  }

  /** Seconds of wall time since the clock was made. */
  wallElapsedS(): number {
    return (this.wall.now() - this.wallStart) / 1000;
  }

  /** Virtual seconds per wall second so far. */
  speedup(): number {
    const wall = this.wallElapsedS();
    return wall > 0 ? this.fake.now() / 1000 / wall : 0;
  }

  /** Runs virtual time until `done` settles; throws if nothing is left to run and it never does. */
  async drive(done: Promise<unknown>): Promise<void> {
    let over = false;
    done.then(
      () => {
        over = true;
      },
      () => {
        over = true;
      },
    );
    const watch = PromiseWatch.start();
    let quiet = 0;
    // Asked after each callback at full speed. A marked one that made or settled no promise is the
    // loop's `continue` below, taken here without leaving the timer run: most packets are such.
    const stop = (): boolean => {
      if (!this.marked) return false;
      const { speed, paused } = this.pace_;
      if (speed !== "max" || paused || watch.seen() || quiet + 1 >= QUIET_TURNS_MAX) return true;
      quiet++;
      this.marked = false;
      watch.mark();
      return false;
    };
    try {
      let idle = 0;
      while (!over) {
        this.marked = false;
        watch.mark();
        if (this.pace_.speed === "max" && !this.pace_.paused) {
          this.fake.runUntilStopped(stop);
          // No promise made or settled: no continuation waits, and virtual time may move on at once.
          if (this.marked && !watch.seen() && ++quiet < QUIET_TURNS_MAX) continue;
        } else if (await this.paced()) continue;
        quiet = 0;
        await hostTurn();
        if (over || this.fake.nextAt() !== undefined) idle = 0;
        else if (++idle > IDLE_TURNS_MAX) {
          throw new Error(`the virtual run has nothing left to run at ${this.fake.now().toFixed(1)} ms`);
        }
      }
    } finally {
      watch.stop();
    }
  }

  /**
   * One step at a speed: the timers due by `speed × wall elapsed`, or a wait on the wall clock when
   * the next one is later (or while paused). True when it only waited.
   */
  private async paced(): Promise<boolean> {
    const { speed, paused } = this.pace_;
    const next = this.fake.nextAt();
    if (paused || speed === "max" || next === undefined) {
      if (paused) await sleep(this.wall, PACE_LOOK_MS);
      return paused;
    }
    let limit = this.base.virtual + (this.wall.now() - this.base.wall) * speed;
    // Only a timer due behind the pace is debt. A stretch with nothing due is not: the pace crosses
    // it in its own time (measured from the last timer run, a gap longer than a wall second's worth
    // was taken for debt, and the pace started again from that timer forever: a run at ×1 froze at
    // its first quiet second, at ×2 in its twins' 3 s goodbye).
    if (next < limit && limit - next > PACE_DEBT_MS * speed) {
      this.base = { virtual: next, wall: this.wall.now() };
      limit = next;
    }
    if (next > limit) {
      await sleep(this.wall, Math.min(PACE_LOOK_MS, (next - limit) / speed));
      return true;
    }
    this.fake.runUntilStopped(() => this.marked || (this.fake.nextAt() ?? limit) > limit);
    return false;
  }
}
