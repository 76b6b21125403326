/**
 * When the broker's replay after a subscription is over: the one wait the service's looks at the
 * replayed state share (the put-back's look for reports not replayed, twins/put-back.ts; the reports
 * whose origin waits for the configs on their path, twins/origin-wait.ts; the registers whose config
 * was not replayed yet, twins/broker-copy.ts ConfigReplayWait).
 *
 * A broker sends a subscription's retained messages one by one after its SUBACK. Where there is a
 * replay marker (twins/replay-marker.ts: over a URL), the wait is for it, published after the
 * subscriptions: it comes back after their retained messages on a broker that keeps a client's order
 * (twinfleet's broker, broker/retained-order.ts; Mosquitto); then REPLAY_SETTLE_MS with no retained
 * message. No marker (or refused): REPLAY_SETTLE_MS of quiet alone, at most REPLAY_WAIT_MAX_MS; the
 * marker not back within REPLAY_WAIT_MAX_MS: the quiet time from then. The origin and config waits
 * ended on the quiet time alone: a replay pausing past it on a loaded host had them judge nodes from a
 * part of it (honest reports told spoofed, nodes shown following nobody and their pairings re-sent).
 */
import { after, type Scheduler, type Timer } from "./clock.js";

/** How long no retained message must have come before the replay counts as over. */
export const REPLAY_SETTLE_MS = 500;
/** The longest the look waits for the replay to end (a broker replaying without pause). */
export const REPLAY_WAIT_MAX_MS = 10_000;

/** How a wait for a replay's end goes; each has the default the service's looks use. */
export interface ReplayWait {
  /** When the subscription was made (the scheduler's now). */
  readonly began?: number;
  /** How long no retained message must have come (REPLAY_SETTLE_MS). */
  readonly quietMs?: number;
  /** The longest it waits after `began` before it calls the replay over all the same (REPLAY_WAIT_MAX_MS). */
  readonly maxMs?: number;
}

/**
 * Calls `done` once the broker's replay for a subscription is over: no retained message (`lastAt`)
 * for the quiet time since it began, or the longest wait passed. Returns its cancel.
 */
export function whenReplayOver(
  scheduler: Scheduler,
  lastAt: () => number,
  done: () => void,
  wait: ReplayWait = {},
): { cancel(): void } {
  const { began = scheduler.now(), quietMs = REPLAY_SETTLE_MS, maxMs = REPLAY_WAIT_MAX_MS } = wait;
  let timer: Timer | undefined;
  const look = () => {
    const now = scheduler.now();
    const quiet = now - Math.max(lastAt(), began);
    if (quiet < quietMs && now - began < maxMs) {
      timer = after(scheduler, quietMs - quiet, look);
      return;
    }
    timer = undefined;
    done();
  };
  timer = after(scheduler, quietMs, look);
  return { cancel: () => timer?.cancel() };
}

/** What a look needs of the replay marker (twins/replay-marker.ts): its round trip, undefined when refused. */
export interface ReplayMarking {
  roundTrip(): Promise<number | undefined>;
}

/**
 * Calls `done(true)` once the replay marker is back and no retained message (`lastAt`) came for
 * REPLAY_SETTLE_MS after it (a broker out of order, Redis, may send a few after the marker; the
 * marker waited behind the replay, so its round trip is no measure of the broker's pace here, as it
 * is for a command's look at a quiet broker); `done(false)` when the look had
 * only quiet to go by (whenReplayOver): no marker or refused (the quiet time, at most
 * REPLAY_WAIT_MAX_MS), or not back within REPLAY_WAIT_MAX_MS (then the quiet time from there, with
 * no longest: it used to end the look at 10 s whatever still came).
 */
export function whenReplayMarked(
  scheduler: Scheduler,
  marker: ReplayMarking | undefined,
  lastAt: () => number,
  done: (marked: boolean) => void,
): { cancel(): void } {
  if (marker === undefined) return whenReplayOver(scheduler, lastAt, () => done(false));
  const began = scheduler.now();
  let settled = false;
  let quiet: { cancel(): void } | undefined;
  const quietOnly = () => {
    quiet = whenReplayOver(scheduler, lastAt, () => done(false), { began });
  };
  const bound = after(scheduler, REPLAY_WAIT_MAX_MS, () => {
    if (settled) return;
    settled = true;
    // Still replaying or not, the look's longest is past: the quiet time alone, from now.
    quiet = whenReplayOver(scheduler, lastAt, () => done(false), { maxMs: Number.POSITIVE_INFINITY });
  });
  void marker.roundTrip().then((rtt) => {
    if (settled) return;
    settled = true;
    bound.cancel();
    if (rtt === undefined) quietOnly();
    else quiet = whenReplayOver(scheduler, lastAt, () => done(true), { maxMs: Number.POSITIVE_INFINITY });
  });
  return {
    cancel: () => {
      settled = true;
      bound.cancel();
      quiet?.cancel();
    },
  };
}

/**
 * The service's side: after each (re)connect's subscriptions, the one wait for the replay's end
 * (whenReplayMarked); then `judge` runs (the registry's replayOver, which ends the hold of
 * twins/reread-hold.ts and judges the origins and configs held), and whatever asked `onceOver` (the
 * put-back's look). The wait begins at the last SUBACK: begun at the CONNACK, a broker or a service
 * slow to answer passed the quiet time before the first retained message, and the replay was over
 * with nothing read.
 */
export class ReplayEnd {
  private settle: { cancel(): void } | undefined;
  /** How the last wait ended (`marked`: by the marker, not quiet alone); undefined while one is under way. */
  private ended: boolean | undefined;
  private readonly waiting = new Set<(marked: boolean) => void>();
  /** When the last retained message came (the broker's replay for a subscription). */
  lastAt = Number.NEGATIVE_INFINITY;
  /** Which begin() the marker's round trip under way is for (one of an earlier wait is not told). */
  private round = 0;
  private back = false;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly marker: ReplayMarking | undefined,
    private readonly judge: (marked: boolean) => void,
  ) {}

  /** A retained message came (the broker's replay for a subscription). */
  replayed(): void {
    this.lastAt = this.scheduler.now();
  }

  /** Every subscription of a (re)connect is granted (the last SUBACK in): the wait starts again. */
  begin(): void {
    this.settle?.cancel();
    this.ended = undefined;
    this.back = false;
    const round = ++this.round;
    const marker = this.marker;
    const marking = marker && {
      roundTrip: async () => {
        const rtt = await marker.roundTrip();
        if (rtt !== undefined && round === this.round) this.back = true;
        return rtt;
      },
    };
    this.settle = whenReplayMarked(
      this.scheduler,
      marking,
      () => this.lastAt,
      (marked) => {
        this.settle = undefined;
        this.ended = marked;
        this.judge(marked);
        const told = [...this.waiting];
        this.waiting.clear();
        for (const f of told) f(marked);
      },
    );
  }

  /** Whether the marker of the wait under way (or the last one) is back: the quiet time runs from it. */
  get markerBack(): boolean {
    return this.back;
  }

  /** Calls `done` once the replay under way is over, at once if it is; returns its cancel. */
  onceOver(done: (marked: boolean) => void): { cancel(): void } {
    if (this.ended !== undefined) {
      done(this.ended);
      return { cancel: () => {} };
    }
    this.waiting.add(done);
    return { cancel: () => this.waiting.delete(done) };
  }

  /** The service closes, or subscribes again: no wait is left under way, nor anything waiting on it. */
  stop(): void {
    this.settle?.cancel();
    this.settle = undefined;
    this.ended = undefined;
    this.back = false;
    this.round++;
    this.waiting.clear();
  }
}
