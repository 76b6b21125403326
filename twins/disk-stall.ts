/**
 * The writes of the desired state's saver that its disk does not answer (twins/desire-saver.ts):
 * its saves and its test writes (node/dir-probe.ts) under way, and a stall once the oldest of them
 * has run `SAVE_STALLED_MS` (fsfreeze, a hung disk or network volume: nothing fails). A stall is said
 * once (ERROR), lasts while anything begun during it is under way, and its end is said once nothing
 * is, with how long each write was stalled. Before, only a save was timed: on a fleet that changes
 * nothing, the test write hung on a frozen disk and `/healthz` said 200 for as long as it stayed
 * frozen. A write is timed only while it waits on its disk: between two of its disk operations (a
 * whole snapshot's slices walked and serialised, the event loop turning between two: `pace`), it is
 * not, and each operation is timed from its own start. Timed from its first, a healthy disk's
 * 100,000-node snapshot was told stalled on a loaded host (its slices took over 5 s of the event
 * loop's time, each write a few milliseconds), as 200,000 nodes' would be on any. Nor is the time
 * the service itself did not run (stopped, its VM paused, its event loop held: node/stall-watch.ts):
 * its disk may have answered meanwhile, and the answer is read only after the timers that came due.
 * Counted, a `kill -STOP` of 6 s during a save was told as a disk stall (ERROR, `/healthz` 503) the
 * moment the service ran again, the save ending 0.3 s later.
 */
import type { Logger } from "pino";
import { ranSince, type StallWatch } from "../node/stall-watch.js";
import { WritesUnderWay, type WriteUnderWay } from "../node/writes-under-way.js";
import type { Scheduler, Timer } from "./clock.js";
import type { DiskPace } from "./store-journal.js";

/**
 * A save under way this long has stalled: its disk or file system is not answering (`fsfreeze`, a
 * volume snapshot, a hung disk or network volume), and nothing fails. 5 s, as the broker's store.
 */
export const SAVE_STALLED_MS = 5_000;

/** What the saver writes: its state, or a test write of its directory. */
export type DiskWrite = "save" | "test write";

/**
 * Each kind of write as the lines name it: stalled (`a save of the desired state to FILE`, `a test
 * write of the data directory DIR`) and ended (`the save to FILE`, `the test write of DIR`).
 */
export type StallPlaces = Record<DiskWrite, { readonly stalled: string; readonly ended: string }>;

type UnderWay = WriteUnderWay<DiskWrite>;

export class DiskStall {
  /**
   * The writes waiting on their disk, each from the start of its disk operation under way
   * (node/writes-under-way.ts, as the broker's store keeps its own).
   */
  private readonly underWay: WritesUnderWay<DiskWrite> | undefined;
  /** Each write begun and not ended, by its token: its record in `underWay`, none while it is idle. */
  private readonly writes = new Map<number, { readonly what: DiskWrite; waiting: number | undefined }>();
  private next = 0;
  private timer: Timer | undefined;
  /** Those stalled in the stall told, in the order they ended: said with its end. */
  private endedStalled: { what: DiskWrite; ms: number }[] = [];
  private told = false;

  constructor(
    private readonly sched: Scheduler | undefined,
    private readonly logger: Logger,
    private readonly places: StallPlaces,
    /** What tells the service's own stalls, not counted as waiting (none on virtual time). */
    private readonly stalls?: StallWatch | undefined,
  ) {
    this.underWay = sched === undefined ? undefined : new WritesUnderWay(() => sched.now());
  }

  /** A write begins, waiting on its disk; its token ends it (with no clock, nothing is timed). */
  began(what: DiskWrite): number {
    const token = this.next++;
    this.writes.set(token, { what, waiting: this.underWay?.begin(what) });
    this.arm();
    return token;
  }

  /**
   * What the write of `token` tells of its pace (twins/store-journal.ts DiskPace): `idle` once its
   * disk operation has ended and the event loop makes its next piece (not timed: a stall told is said
   * over, the disk having answered), `disk` as its next disk operation begins (timed from then).
   */
  pace(token: number): DiskPace {
    return {
      idle: () => {
        const w = this.writes.get(token);
        if (w?.waiting === undefined) return;
        const waiting = w.waiting;
        w.waiting = undefined;
        this.answered(waiting);
      },
      disk: () => {
        const w = this.writes.get(token);
        if (w === undefined || w.waiting !== undefined || this.underWay === undefined) return;
        w.waiting = this.underWay.begin(w.what);
        this.arm();
      },
    };
  }

  /** The write of `token` ended, either way: once nothing is under way, a stall told is said over. */
  ended(token: number): void {
    const w = this.writes.get(token);
    this.writes.delete(token);
    if (w?.waiting !== undefined) this.answered(w.waiting);
  }

  /** The disk answered the write waiting as `waiting`: once none waits, a stall told is said over. */
  private answered(waiting: number): void {
    const w = this.underWay?.end(waiting);
    if (w === undefined) return;
    if (this.told && w.ms >= SAVE_STALLED_MS) this.endedStalled.push({ what: w.what, ms: w.ms });
    if ((this.underWay?.size ?? 0) > 0) {
      this.arm();
      return;
    }
    this.cancel();
    if (!this.told) return;
    this.told = false;
    const [first, ...more] = this.endedStalled;
    this.endedStalled = [];
    if (first === undefined) return;
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    const others = more.map((e) => `, ${this.places[e.what].ended} after ${s(e.ms)}`).join("");
    // stalledMs: the stall's length, its longest write's.
    this.logger.warn(
      { stalledMs: Math.max(first.ms, ...more.map((e) => e.ms)) },
      `twins: ${this.places[first.what].ended} ended after ${s(first.ms)} stalled${others}`,
    );
  }

  /** The oldest write under way, once it has run `SAVE_STALLED_MS`; else undefined. */
  get stalled(): UnderWay | undefined {
    const oldest = this.underWay?.oldest();
    return oldest !== undefined && this.waited(oldest) >= SAVE_STALLED_MS ? oldest : undefined;
  }

  /** How long `w` has waited on its disk while the service ran (its own stalls not counted). */
  private waited(w: UnderWay): number {
    return this.sched === undefined ? 0 : ranSince(this.sched, this.stalls, w.since);
  }

  /** Whether a save or a test write is under way. */
  get busy(): boolean {
    return this.writes.size > 0;
  }

  /** Looks no more (a write that ends later is still taken off). */
  cancel(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Looks again once the oldest write under way has run `SAVE_STALLED_MS`, unless a stall is told. */
  private arm(): void {
    const sched = this.sched;
    const oldest = this.underWay?.oldest();
    this.cancel();
    if (sched === undefined || oldest === undefined || this.told) return;
    this.look(sched, oldest, oldest.since + SAVE_STALLED_MS);
  }

  /** At `atMs`, tells `oldest` stalled once it has waited `SAVE_STALLED_MS` while the service ran. */
  private look(sched: Scheduler, oldest: UnderWay, atMs: number): void {
    this.timer = sched.at(atMs, () => {
      this.timer = undefined;
      const waited = this.waited(oldest);
      if (waited < SAVE_STALLED_MS) {
        this.look(sched, oldest, sched.now() + SAVE_STALLED_MS - waited);
        return;
      }
      this.told = true;
      this.logger.error(
        `twins: ${this.places[oldest.what].stalled} has not finished in ${SAVE_STALLED_MS / 1000} s: ` +
          "its disk or file system is not answering (frozen, a hung disk or network volume?); what changes is " +
          "held in memory only, and commands wait for the save to be answered",
      );
    });
  }
}
