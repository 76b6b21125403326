/**
 * The board's CPU as a timeline: the model time inside the running job, when the foreground loop is
 * free again, where the idle loop's polls fall, and how many cycles went to work, to busy-waiting and
 * to idle polling. Idle iterations are never simulated one by one; their count follows from the idle
 * period (docs/device-model.md §CPU).
 */
import type { CpuStats } from "./metrics.js";

export class Cpu {
  /** Model time inside the running job (ms): where its next operation starts. */
  t = 0;
  /** End of the current foreground job (ms); +Infinity while blocked on something open-ended. */
  freeAt = 0;
  /** Start of the current idle stretch: polls fall at idleSince + k·period. */
  idleSince = 0;
  work = 0;
  blocked = 0;
  /**
   * Interrupt cycles taken while the loop was blocked open-ended (waiting for CONNACK): the wait is
   * counted as blocked when it ends, so these cycles would be counted twice.
   */
  isrWhileBlocked = 0;
  private polls = 0;
  private poweredAt: number | undefined;
  private elapsedBefore = 0;
  private readonly msPerCycle: number;

  constructor(
    readonly clockHz: number,
    /** Period of one idle loop() iteration (ms); 0 = the loop notices everything at once. */
    readonly periodMs: number,
    /** Cycles of one idle iteration (the chip poll plus loop overhead). */
    readonly pollCycles: number,
  ) {
    this.msPerCycle = 1000 / clockHz;
  }

  ms(cycles: number): number {
    return cycles * this.msPerCycle;
  }

  cycles(ms: number): number {
    return ms / this.msPerCycle;
  }

  powerOn(at: number): void {
    this.poweredAt = at;
    this.freeAt = at;
    this.idleSince = at;
  }

  powerOff(at: number): void {
    if (this.poweredAt === undefined) return;
    if (this.freeAt <= at) this.countPolls(at);
    this.elapsedBefore += this.cycles(at - this.poweredAt);
    this.poweredAt = undefined;
  }

  get powered(): boolean {
    return this.poweredAt !== undefined;
  }

  /** The first idle poll at or after `t`: when the loop notices something that became ready at `t`. */
  nextPoll(t: number): number {
    const from = Math.max(this.freeAt, this.idleSince);
    if (t <= from) return from;
    if (this.periodMs === 0) return t;
    // The tolerance snaps a time on the grid to its point, which may then round an ulp below `t`:
    // a wake-up before `t` would find nothing ready and wake again at the same instant.
    return Math.max(t, from + Math.ceil((t - from) / this.periodMs - 1e-9) * this.periodMs);
  }

  /** A job starts at `at` (the loop was idle since `idleSince`): count the idle polls in between. */
  begin(at: number): void {
    this.countPolls(at);
    this.idleSince = at;
    this.t = at;
  }

  /** The running job does `cycles` of work. */
  spend(cycles: number): void {
    this.work += cycles;
    this.t += this.ms(cycles);
  }

  /** The running job busy-waits until `at` (nothing if that has passed). */
  blockUntil(at: number): void {
    if (at <= this.t) return;
    this.blocked += this.cycles(at - this.t);
    this.t = at;
  }

  /** The job ended at `at`: the loop is free and idle from then. */
  end(at: number): void {
    this.freeAt = at;
    this.idleSince = at;
  }

  private countPolls(until: number): void {
    if (this.periodMs > 0 && until > this.idleSince) {
      this.polls += Math.floor((until - this.idleSince) / this.periodMs + 1e-9);
    }
  }

  stats(now: number, blockedNowSince?: number): CpuStats {
    const elapsed =
      this.elapsedBefore + (this.poweredAt === undefined ? 0 : this.cycles(now - this.poweredAt));
    let polls = this.polls;
    if (this.poweredAt !== undefined && this.periodMs > 0 && now > this.idleSince && this.freeAt <= now) {
      polls += Math.floor((now - this.idleSince) / this.periodMs);
    }
    const blocked = Math.max(
      0,
      this.blocked +
        (blockedNowSince !== undefined ? this.cycles(Math.max(0, now - blockedNowSince)) : 0) -
        this.isrWhileBlocked,
    );
    const pollCycles = polls * this.pollCycles;
    const busy = this.work + blocked;
    return {
      workCycles: this.work,
      blockedCycles: blocked,
      pollCycles,
      elapsedCycles: elapsed,
      // A job scheduled past `now` (a long reset wait) is busy time not yet elapsed: at most all of it.
      utilization: elapsed > 0 ? Math.min(1, busy / elapsed) : 0,
      utilizationWithPolling: elapsed > 0 ? Math.min(1, (busy + pollCycles) / elapsed) : 0,
    };
  }
}
