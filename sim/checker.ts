/**
 * The versioned checker: for every press (node, stamp) and every node in its reach, whether and when
 * that follower's applied state came to carry the press's stamp or a newer one — within 1 s, within
 * 5 s (the paper's limit), later, or never (lost for good) (docs/metrics.md). It keeps what the fault
 * analysis needs: when every pair was pressed and how long it took, the slow pairs in full and the
 * press times. Regressions are judged apart, per node (sim/regressions.ts). Once the run says no
 * fault has begun before some time (noFaultBefore), a pair settled before then is outside every
 * fault's window for good: it goes into `early` and is not kept, so a run without faults keeps no
 * record per press or per pair, however long it runs. Once the run's faults have ended and their
 * windows are final (settleBefore), what settled before then goes into `early` or is dropped too.
 */
import { compareStamps, type NodeId, type Stamp } from "../protocol/index.js";
import { Buckets, Distribution } from "./histogram.js";
import { keepFinal } from "./keep-final.js";

/** The paper's sync requirement: a press reaches every follower within this. */
export const FAST_MS = 1000;
/** The paper's "lost message": not reflected within this. */
export const LOST_AFTER_MS = 5000;

export interface StampEvent {
  readonly node: NodeId;
  readonly stamp: Stamp;
  /** Milliseconds on the run's clock. */
  readonly at: number;
}

interface Pending {
  readonly source: NodeId;
  readonly stamp: Stamp;
  readonly at: number;
}

/** A (press, follower) pair that took longer than FAST_MS, or never arrived (`appliedAt` undefined). */
export interface SlowPair {
  readonly source: NodeId;
  readonly follower: NodeId;
  readonly pressAt: number;
  readonly appliedAt: number | undefined;
}

export interface CheckCounts {
  readonly presses: number;
  /** (press, follower) pairs reflected within LOST_AFTER_MS. */
  readonly deliveries: number;
  /** Of those, within FAST_MS. */
  readonly within1s: number;
  /** Pairs whose follower already held a newer stamp when the press happened (latency 0). */
  readonly superseded: number;
  /** Pairs not reflected within LOST_AFTER_MS: `late` ones plus those never reflected (so far). */
  readonly lost: number;
  /** Reflected, but after LOST_AFTER_MS. */
  readonly late: number;
  /** Never reflected: counted by finish(), at the end of the run. */
  readonly lostForGood: number;
  /**
   * Of those, the pairs of presses a node held in RAM while not synced (offline, or syncing) and
   * lost with its power before it synced again: the firmware keeps them nowhere else.
   */
  readonly lostWithPower: number;
  /** Pairs still waiting, younger than LOST_AFTER_MS (0 after finish). */
  readonly pending: number;
}

/** Pairs settled before any fault began: their latencies (within LOST_AFTER_MS) and how many were not. */
export interface EarlyPairs {
  readonly latency: Distribution;
  readonly lost: number;
}

/** A fault's window on the run's clock: from its start until the fleet recovered from it (ms). */
export interface TimeWindow {
  readonly from: number;
  readonly to: number;
}

/** Whether [from, to] meets one of `windows` (a pair in flight then, a press then). */
export function overlapsAny(windows: readonly TimeWindow[], from: number, to: number): boolean {
  for (const w of windows) if (from <= w.to && to >= w.from) return true;
  return false;
}

/** Every pair's press time and latency, in press order per follower (Infinity: never reflected). */
export interface PairRecord {
  readonly pressAt: readonly number[];
  readonly latencyMs: readonly number[];
}

/**
 * Press times are kept this much longer than the pairs' records: an outage noticed late (a broker gone
 * silent is noticed at the twins' keepalive) counts the presses since it began.
 */
export const PRESS_TIMES_KEPT_MS = 30_000;

export class SyncChecker {
  /** Latencies of the pairs reflected within LOST_AFTER_MS: the paper's sync latency. */
  readonly latency = new Distribution(1000, 600_000);
  /** 50 ms bars up to 2 s, for live plots. */
  readonly bars = new Buckets(50, 2000);
  readonly slow: SlowPair[] = [];
  /** Press times from PRESS_TIMES_KEPT_MS before the first fault on (older ones may linger unread). */
  readonly pressTimes: number[] = [];
  /** How many of pressTimes' first entries are past keeping: dropped in one go once they are many. */
  private pressTimesDead = 0;
  /** How many of slow's and pressTimes' first entries lie in a final window, kept to the end (settleBefore). */
  private slowFinal = 0;
  private pressTimesFinal = 0;
  private readonly pairPressAt: number[] = [];
  private readonly pairLatency: number[] = [];
  private readonly current = new Map<NodeId, Stamp>();
  private readonly waiting = new Map<NodeId, Pending[]>();
  /** Past LOST_AFTER_MS and not reflected yet: late if they still arrive, lost for good if not. */
  private readonly overdue = new Map<NodeId, Pending[]>();
  private presses = 0;
  private deliveries = 0;
  private within1s = 0;
  private superseded = 0;
  private late = 0;
  private lostForGood = 0;
  private lostWithPower = 0;
  /** Pairs lost for good whose follower was away (offline) at the end, per follower. */
  private readonly lostAway = new Map<NodeId, number>();
  private finished = false;
  private readonly reflected: ((ms: number) => void)[] = [];
  /** No fault began before this (run clock, ms): what settles before it is outside every window. */
  private clearBefore = Number.NEGATIVE_INFINITY;
  private readonly earlyLatency = new Distribution(1000, 600_000);
  private earlyLost = 0;

  constructor(
    private reach: ReadonlyMap<NodeId, readonly NodeId[]>,
    private readonly lostAfterMs = LOST_AFTER_MS,
    private readonly fastMs = FAST_MS,
  ) {}

  /**
   * The nodes' pairing changed: presses from now on reach these followers. The pairs of earlier
   * presses stay owed as they were (their followers were paired when they happened).
   */
  setReach(reach: ReadonlyMap<NodeId, readonly NodeId[]>): void {
    this.reach = reach;
  }

  /** A press at `e.node` took `e.stamp` (a held press is timed from its interrupt). */
  press(e: StampEvent): void {
    this.presses++;
    if (e.at >= this.clearBefore - PRESS_TIMES_KEPT_MS) this.pressTimes.push(e.at);
    this.applied(e);
    for (const f of this.reach.get(e.node) ?? []) {
      const held = this.current.get(f);
      if (held && compareStamps(held, e.stamp) >= 0) {
        this.superseded++;
        this.outcome(e.node, f, e.at, 0);
        continue;
      }
      const p: Pending = { source: e.node, stamp: e.stamp, at: e.at };
      const list = this.waiting.get(f);
      if (list) list.push(p);
      else this.waiting.set(f, [p]);
    }
  }

  /**
   * A press that never left its node: held while the node was not synced, then lost with its RAM
   * (`withPower`: a power cut) or still held when the run ended. Every follower misses it for good.
   */
  unpublished(node: NodeId, at: number, withPower = false): void {
    this.presses++;
    if (at >= this.clearBefore - PRESS_TIMES_KEPT_MS) this.pressTimes.push(at);
    const followers = this.reach.get(node) ?? [];
    for (const f of followers) this.outcome(node, f, at, Number.POSITIVE_INFINITY);
    if (withPower) this.lostWithPower += followers.length;
  }

  /** A node's applied state now carries `stamp` (a press, a forwarded report, a set, a resync). */
  applied(e: StampEvent): void {
    this.hold(e);
    this.settle(this.waiting, e);
    this.settle(this.overdue, e);
  }

  /**
   * No fault has begun before `at` (so every fault's window starts at or after it): presses and
   * pairs settled before `at` need no record for the fault analysis. `at` only moves forward.
   */
  noFaultBefore(at: number): void {
    if (at > this.clearBefore) this.clearBefore = at;
    const times = this.pressTimes;
    const keepFrom = at - PRESS_TIMES_KEPT_MS;
    while (this.pressTimesDead < times.length && (times[this.pressTimesDead] as number) < keepFrom) {
      this.pressTimesDead++;
    }
    if (this.pressTimesDead >= 4096 && 2 * this.pressTimesDead >= times.length) {
      times.splice(0, this.pressTimesDead);
      this.pressTimesDead = 0;
    }
  }

  /**
   * Every fault's window that can hold a pair settled before `before` is known and final: a pair
   * settled before then lies in one of `pairWindows` (the faults whose windows the report's
   * outside-of-faults figures leave out: not kept, nothing reads it) or outside all of them and of
   * every later one, which starts after `before` (into `early`). A slow pair or a press time before
   * `before` outside every one of `allWindows` (those faults and the broker's outages) can change no
   * window's figures any more: dropped too. So a long run keeps, after its faults, only what settled
   * since `before` (fleet/window-close.ts says when the windows are final).
   */
  settleBefore(before: number, pairWindows: readonly TimeWindow[], allWindows: readonly TimeWindow[]): void {
    const at = this.pairPressAt;
    const ms = this.pairLatency;
    // Only the windows that reach what is looked at below (a press after a window cannot be in it).
    let from = Number.POSITIVE_INFINITY;
    for (const t of at) if (t < from) from = t;
    for (let i = this.slowFinal; i < this.slow.length; i++)
      from = Math.min(from, (this.slow[i] as SlowPair).pressAt);
    for (let i = this.pressTimesFinal; i < this.pressTimes.length; i++)
      from = Math.min(from, this.pressTimes[i] as number);
    const pairIn = pairWindows.filter((w) => w.to >= from);
    const anyIn = allWindows.filter((w) => w.to >= from);
    let keep = 0;
    for (let i = 0; i < at.length; i++) {
      const pressAt = at[i] as number;
      const latency = ms[i] as number;
      if (pressAt + latency >= before) {
        at[keep] = pressAt;
        ms[keep++] = latency;
      } else if (!overlapsAny(pairIn, pressAt, pressAt + latency)) {
        if (latency <= this.lostAfterMs) this.earlyLatency.record(latency);
        else this.earlyLost++;
      }
    }
    at.length = keep;
    ms.length = keep;
    // A slow pair or press time settled before `before` in a window stays for good (the windows are
    // final): it moves to the front, with those kept before, and is not looked at again.
    this.slowFinal = keepFinal(
      this.slow,
      this.slowFinal,
      (p) => p.appliedAt ?? Number.POSITIVE_INFINITY,
      (p, until) => overlapsAny(anyIn, p.pressAt, until),
      before,
    );
    this.pressTimesFinal = keepFinal(
      this.pressTimes,
      this.pressTimesFinal,
      (t) => t,
      (t) => overlapsAny(anyIn, t, t),
      before,
    );
    this.pressTimesDead = 0;
  }

  /**
   * The slow pairs and press times not kept for good yet: those in a window settleBefore found final
   * lie before every window still to come, and need not be looked at for it.
   */
  unsettled(): { readonly slow: readonly SlowPair[]; readonly pressTimes: readonly number[] } {
    return { slow: this.slow.slice(this.slowFinal), pressTimes: this.pressTimes.slice(this.pressTimesFinal) };
  }

  /** The earliest press still owed to a follower (waiting, or overdue), or undefined when none is. */
  oldestOwed(): number | undefined {
    let oldest: number | undefined;
    for (const lists of [this.waiting, this.overdue]) {
      for (const list of lists.values())
        for (const p of list) if (oldest === undefined || p.at < oldest) oldest = p.at;
    }
    return oldest;
  }

  /** The pairs settled outside every fault's window, kept only as a distribution (see noFaultBefore, settleBefore). */
  early(): EarlyPairs {
    return { latency: this.earlyLatency, lost: this.earlyLost };
  }

  /** A node rebooted: its RAM (and so its applied state) is gone until it resyncs. */
  forget(node: NodeId): void {
    this.current.delete(node);
  }

  /** Moves pairs older than the limit to the overdue list: lost by the paper's definition. */
  sweep(now: number): void {
    for (const [f, list] of this.waiting) {
      if (!list.some((p) => now - p.at > this.lostAfterMs)) continue;
      const keep = list.filter((p) => now - p.at <= this.lostAfterMs);
      if (keep.length === list.length) continue;
      const old = list.filter((p) => now - p.at > this.lostAfterMs);
      const over = this.overdue.get(f);
      if (over) over.push(...old);
      else this.overdue.set(f, old);
      if (keep.length === 0) this.waiting.delete(f);
      else this.waiting.set(f, keep);
    }
  }

  /**
   * At the end of the run: whatever still waits was never reflected — lost for good. `away(f)`: the
   * follower `f` is offline then (a board switched off mid-run): its pairs are counted apart too.
   */
  finish(away?: (follower: NodeId) => boolean): void {
    if (this.finished) return;
    this.finished = true;
    for (const lists of [this.waiting, this.overdue]) {
      for (const [f, list] of lists) {
        for (const p of list) this.outcome(p.source, f, p.at, Number.POSITIVE_INFINITY);
        if (list.length > 0 && away?.(f) === true)
          this.lostAway.set(f, (this.lostAway.get(f) ?? 0) + list.length);
      }
      lists.clear();
    }
  }

  /** The pairs lost for good whose follower was offline at the end, per follower (see finish). */
  lostAtAway(): ReadonlyMap<NodeId, number> {
    return this.lostAway;
  }

  /** The newest stamp each node has applied, as last seen. */
  stampOf(node: NodeId): Stamp | undefined {
    return this.current.get(node);
  }

  counts(): CheckCounts {
    let pending = 0;
    for (const l of this.waiting.values()) pending += l.length;
    let overdue = 0;
    for (const l of this.overdue.values()) overdue += l.length;
    return {
      presses: this.presses,
      deliveries: this.deliveries,
      within1s: this.within1s,
      superseded: this.superseded,
      lost: this.late + this.lostForGood + overdue,
      late: this.late,
      lostForGood: this.lostForGood,
      lostWithPower: this.lostWithPower,
      pending,
    };
  }

  /** Every decided pair so far: when it was pressed and how long it took. */
  pairs(): PairRecord {
    return { pressAt: this.pairPressAt, latencyMs: this.pairLatency };
  }

  private hold(e: StampEvent): void {
    const held = this.current.get(e.node);
    if (!held || compareStamps(e.stamp, held) > 0) this.current.set(e.node, e.stamp);
  }

  private settle(lists: Map<NodeId, Pending[]>, e: StampEvent): void {
    // Nothing overdue is the usual case: no lookup then.
    if (lists.size === 0) return;
    const list = lists.get(e.node);
    if (!list) return;
    let keep = 0;
    for (const p of list) {
      if (compareStamps(p.stamp, e.stamp) <= 0) this.outcome(p.source, e.node, p.at, e.at - p.at);
      else list[keep++] = p;
    }
    list.length = keep;
    if (keep === 0) lists.delete(e.node);
  }

  /** Calls `fn` with the latency of every pair reflected from now on, in ms (late ones included). */
  onReflected(fn: (ms: number) => void): void {
    this.reflected.push(fn);
  }

  private outcome(source: NodeId, follower: NodeId, pressAt: number, ms: number): void {
    const latency = Math.max(0, ms);
    if (Number.isFinite(latency)) for (const fn of this.reflected) fn(latency);
    const early = pressAt + latency < this.clearBefore;
    if (!early) {
      this.pairPressAt.push(pressAt);
      this.pairLatency.push(latency);
    } else if (latency <= this.lostAfterMs) this.earlyLatency.record(latency);
    else this.earlyLost++;
    if (latency <= this.lostAfterMs) {
      this.deliveries++;
      this.latency.record(latency);
      this.bars.record(latency);
      if (latency <= this.fastMs) this.within1s++;
    } else if (Number.isFinite(latency)) {
      this.late++;
    } else {
      this.lostForGood++;
    }
    if (latency > this.fastMs && !early) {
      this.slow.push({
        source,
        follower,
        pressAt,
        appliedAt: Number.isFinite(latency) ? pressAt + latency : undefined,
      });
    }
  }
}
