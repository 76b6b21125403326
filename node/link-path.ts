/**
 * One direction of one TCP connection between a node and the broker, per MQTT packet (one packet =
 * one TCP segment: every protocol message fits one): the segment's transmissions come from the
 * sender (node/tcp-sender.ts); the path keeps TCP's in-order delivery (a later segment waits
 * behind a delayed one: head-of-line blocking), honours a closed receive window and cable pulls,
 * holds segments under Nagle, and times the socket out when the retries run out. With
 * `partialAck` the other direction's data acknowledging the segment ahead of one waiting in the
 * Loss state sends that one again at once.
 */
import { newSegment, type Segment, shareSchedule } from "./link-segment.js";
import type { LossProcess } from "./loss.js";
import { type RetryPolicy, rtoAfter } from "./retransmit.js";
import { type Scheduler, type TimerSlot, timerSlot } from "./scheduler.js";
import { probeToLater } from "./tcp-head.js";
import { TcpSender } from "./tcp-sender.js";
import {
  answeredAtOnce,
  blankTransmissions,
  FIXED_SIDE,
  firstAfter,
  type SampleRequest,
  type TcpSide,
  type Transmissions,
} from "./tcp-side.js";

export interface PathStats {
  segments: number;
  bytes: number;
  retransmissions: number;
  timeouts: number;
  /** Times the receiver's window was full and the sender had to hold data back. */
  windowStalls: number;
}

export interface PathHooks {
  /** Hands a segment to the receiver at `at`; false when its window is full (try again on `resume`). */
  deliver(bytes: Buffer, at: number): boolean;
  /** The sender gave up at `at`: the connection is dead. */
  timedOut(at: number): void;
  /** Whether the cable was plugged in at time `at`. */
  upAt(at: number): boolean;
}

/** What a queue slot's segment holds once it is gone (its bytes are not kept). */
const NO_BYTES = Buffer.alloc(0);

/** One direction of one TCP connection. */
export class LinkPath {
  /**
   * Segments sent and not yet delivered: `queue[head]` up to `queue[tail]`. The array keeps its room
   * between bursts (emptied, an array gives its room up and takes new room on its next push), and
   * its slots keep their segment objects for the next segments (a new one per segment, its numbers
   * boxed, was most of what a segment allocated).
   */
  private queue: Segment[] = [];
  private head = 0;
  private tail = 0;
  /** The path's one timer (a slot: re-armed per segment without a new timer), armed at `timerAt`. */
  private readonly timer: TimerSlot;
  private timerAt = Number.POSITIVE_INFINITY;
  private killAt = Number.POSITIVE_INFINITY;
  private lastDelivered = Number.NEGATIVE_INFINITY;
  private stalled = false;
  private dead = false;
  /** The sender lost power: what left it before then still arrives; then this is called. */
  private afterCut: (() => void) | undefined;
  private readonly sender: TcpSender;
  /** The connection's other direction: its sender gets the ACK carried by what this path delivers. */
  reverse: LinkPath | undefined;
  /** Whether the reverse direction's data carries partial ACKs for this path (`partialAck`). */
  private readonly partial: boolean;
  /** Nagle: segments handed over before this time go out together at it. */
  private heldUntil = Number.NEGATIVE_INFINITY;
  private held: Segment | undefined;
  /** The sender's answer for the segment being placed, reused (its fields are copied at once). */
  private readonly result: Transmissions = blankTransmissions();
  /** One sampling request, refilled for each segment: the sender reads it during the call only. */
  private readonly request: SampleRequest;

  constructor(
    sched: Scheduler,
    private readonly policy: RetryPolicy,
    private readonly loss: LossProcess,
    private readonly latencyMs: number,
    private readonly hooks: PathHooks,
    readonly stats: PathStats,
    /** Deliveries leave the model at their exact instant (the node's side: writes to the real socket). */
    private readonly exact = false,
    /** The sender's kind and the receiver's delayed ACK (default: the W5100's fixed RTR, no ACK model). */
    side: TcpSide = FIXED_SIDE,
    /** Loss of this direction's ACKs: the reverse direction's loss process (default: never lost). */
    private readonly ackLoss: LossProcess | undefined = undefined,
  ) {
    this.sender = new TcpSender(policy, side, latencyMs);
    this.partial = side.partialAck === true;
    this.timer = timerSlot(sched, () => {
      const due = this.timerAt;
      this.timerAt = Number.POSITIVE_INFINITY;
      this.run(due);
    });
    const ack = this.ackLoss;
    this.request = {
      from: 0,
      at: 0,
      answered: false,
      dataLost: () => this.loss.lost(),
      ackLost: ack === undefined ? () => false : () => ack.lost(),
      certain: false,
    };
  }

  /** The connection's sender state (RTO, backoff, when everything sent is acked). */
  get tcp(): TcpSender {
    return this.sender;
  }

  /** Sends a segment at model time `at`. */
  send(bytes: Buffer, at: number): void {
    if (this.dead) return;
    this.stats.segments++;
    this.stats.bytes += bytes.length;
    const held = this.held;
    if (held !== undefined && at < this.heldUntil) {
      // Nagle: coalesced with the segment already waiting, it shares its transmissions.
      shareSchedule(this.next(bytes), held);
      this.arm();
      return;
    }
    const release = this.sender.releaseAt(at);
    this.reviseHead(at, release);
    const seg = this.next(bytes);
    seg.attempt = 0;
    seg.attemptAt = release;
    seg.retryAt = Number.POSITIVE_INFINITY;
    this.held = release > at ? seg : undefined;
    this.heldUntil = release;
    this.place(seg, 0, release);
    this.arm();
  }

  /**
   * The reverse direction delivered data sent at `sentAt`, at `at`: the cumulative ACK rides in it
   * (RFC 793 §3.7). When everything this path had sent (before a held segment) had reached the
   * receiver by `sentAt`, the sender has the ACK at `at`: backoff and Loss state end, and a held
   * segment (Nagle) goes at `at`.
   */
  reverseData(sentAt: number, at: number): void {
    if (this.dead || this.lastDelivered > sentAt) return;
    const held = this.held !== undefined && at < this.heldUntil ? this.held : undefined;
    // Everything before the held segment (or everything, with none held) has been delivered.
    const waiting = this.head < this.tail ? this.queue[this.head] : undefined;
    if (waiting !== held) {
      if (waiting !== undefined && this.partial) this.partialAck(waiting, held, sentAt, at);
      return;
    }
    if (!this.sender.ackedAt(at, sentAt)) return;
    if (held === undefined) return;
    this.held = undefined;
    this.heldUntil = at;
    this.place(held, 0, at);
    this.follow(held);
    this.arm();
  }

  /**
   * The reverse direction's data acknowledges everything before `first`, the first segment not yet
   * delivered: a partial ACK (RFC 9293 §3.4), read like any other (Linux `tcp_ack`). When `first`
   * waits in the Loss state for the ACK of the one ahead, this is that ACK: `tcp_clean_rtx_queue`
   * takes the timestamp's RTT sample (ending the backoff, `tcp_ack_update_rtt`) and
   * `tcp_process_loss` (not yet recovered: `REXMIT_LOST`) has `tcp_xmit_retransmit_queue` send
   * `first` again at once. What Nagle holds then waits for `first`'s ACK.
   */
  private partialAck(first: Segment, held: Segment | undefined, sentAt: number, at: number): void {
    if (!(at < first.atAckAt && first.attemptAt >= first.atAckAt)) return;
    if (!this.sender.ackedAt(at, sentAt, first.ahead)) return;
    const idx = first.atAckIndex;
    const { attempt, attemptAt } = first;
    // Its transmissions from the one at the ACK on never go: they were counted, the new ones are.
    this.stats.retransmissions -= first.sent - idx;
    this.place(first, idx, at);
    for (let i = this.head + 1; i < this.tail; i++) {
      const s = this.queue[i] as Segment;
      if (s === held || s.attempt !== attempt || s.attemptAt !== attemptAt) break;
      shareSchedule(s, first);
    }
    if (held !== undefined) {
      const release = this.sender.releaseAt(at);
      if (release < this.heldUntil) {
        this.heldUntil = release;
        this.place(held, 0, release);
        this.follow(held);
      }
    }
    this.arm();
  }

  /** The head's schedule redrawn for the segment handed over at `at` (node/tcp-head.ts): its queued segments take it. */
  private reviseHead(at: number, release: number): void {
    const r = this.result;
    const oldIn = probeToLater(this.sender, at, release, this.request, r);
    if (oldIn === undefined) return;
    this.stats.retransmissions += r.retransmissions;
    for (let i = this.tail - 1; i >= this.head; i--) {
      const s = this.queue[i] as Segment;
      if (s.attemptAt !== oldIn) break;
      s.attempt = r.attempt;
      s.attemptAt = r.ok ? r.attemptAt : r.giveUpAt;
      s.retryAt = firstAfter(r.times, r.times.length, s.attemptAt);
      s.sent = r.times.length;
    }
    if (!r.ok || r.giveUpAt !== Number.POSITIVE_INFINITY) this.killAt = Math.min(this.killAt, r.giveUpAt);
    this.arm();
  }

  /** The segments queued behind `seg` (coalesced with it by Nagle) share its transmissions. */
  private follow(seg: Segment): void {
    let i = this.head;
    while (i < this.tail && this.queue[i] !== seg) i++;
    for (i++; i < this.tail; i++) shareSchedule(this.queue[i] as Segment, seg);
  }

  /**
   * The segment at the queue's tail for `bytes`, queued: the slot's own object, unless there is none
   * yet or it is the one Nagle holds (its numbers are read for the segments coalesced with it).
   */
  private next(bytes: Buffer): Segment {
    let seg = this.queue[this.tail];
    if (seg === undefined || seg === this.held) {
      seg = newSegment(bytes);
      this.queue[this.tail] = seg;
    } else seg.bytes = bytes;
    this.tail++;
    return seg;
  }

  /** Bytes sent but not yet delivered at time `at` (the sender's unacknowledged data). */
  pendingBytes(): number {
    let n = 0;
    for (let i = this.head; i < this.tail; i++) n += (this.queue[i] as Segment).bytes.length;
    return n;
  }

  /** Earliest time ≥ `at` when at most `limit` bytes are still undelivered, on the current samples. */
  drainedTo(limit: number, at: number): number {
    let suffix = this.pendingBytes();
    let t = at;
    let readyMax = this.lastDelivered;
    for (let i = this.head; i < this.tail && suffix > limit; i++) {
      const s = this.queue[i] as Segment;
      readyMax = Math.max(readyMax, s.attemptAt + this.latencyMs);
      suffix -= s.bytes.length;
      t = Math.max(t, readyMax);
    }
    return suffix > limit ? Number.POSITIVE_INFINITY : t;
  }

  /** The receiver's window opened again at `at`. */
  resume(at: number): void {
    if (!this.stalled) return;
    this.stalled = false;
    this.lastDelivered = Math.max(this.lastDelivered, at);
    this.arm();
  }

  /** The connection is gone: nothing more is sent or delivered. */
  close(): void {
    this.dead = true;
    this.afterCut = undefined;
    this.timer.cancel();
    this.timerAt = Number.POSITIVE_INFINITY;
    this.queue = [];
    this.head = 0;
    this.tail = 0;
  }

  /**
   * The sender lost power at `at`. A segment whose successful transmission left before then is on
   * the cable and still arrives, in order; nothing is retransmitted any more, so the first one that
   * needed a later transmission — and everything behind it, which TCP cannot deliver past the gap —
   * never does. `then` runs once the path is done.
   */
  cut(at: number, then: () => void): void {
    if (this.dead) {
      then();
      return;
    }
    let keep = this.head;
    while (keep < this.tail && (this.queue[keep] as Segment).attemptAt <= at) keep++;
    this.drop(keep);
    this.killAt = Number.POSITIVE_INFINITY;
    this.afterCut = then;
    this.finishCut();
    if (!this.dead) this.arm();
  }

  private finishCut(): void {
    if (this.afterCut === undefined || this.head < this.tail) return;
    const then = this.afterCut;
    this.close();
    then();
  }

  /** Forgets the segments from `from` on (never delivered). */
  private drop(from: number): void {
    for (let i = from; i < this.tail; i++) (this.queue[i] as Segment).bytes = NO_BYTES;
    this.tail = from;
  }

  private place(seg: Segment, from: number, at: number): void {
    const req = this.request;
    req.from = from;
    req.at = at;
    req.answered = answeredAtOnce(seg.bytes);
    req.certain = this.loss.certain && (this.ackLoss === undefined || this.ackLoss.certain);
    const r = this.sender.sampleInto(req, this.result);
    // Resuming at `from` > 0 means transmission from-1 was lost too (the cable was out).
    this.stats.retransmissions += r.retransmissions + (from > 0 ? 1 : 0);
    seg.attempt = r.attempt;
    seg.attemptAt = r.ok ? r.attemptAt : r.giveUpAt;
    seg.retryAt = firstAfter(r.times, r.times.length, seg.attemptAt);
    seg.atAckIndex = r.atAckIndex;
    seg.atAckAt = r.atAckAt;
    seg.sent = from + r.times.length;
    seg.ahead =
      r.aheadTimes !== undefined && r.aheadArrived !== undefined
        ? { times: r.aheadTimes, arrived: r.aheadArrived }
        : undefined;
    if (!r.ok || r.giveUpAt !== Number.POSITIVE_INFINITY) this.killAt = Math.min(this.killAt, r.giveUpAt);
  }

  private arm(): void {
    if (this.dead || this.stalled) return;
    const seg = this.head < this.tail ? this.queue[this.head] : undefined;
    let due = this.killAt;
    if (seg !== undefined) due = Math.min(due, Math.max(seg.attemptAt + this.latencyMs, this.lastDelivered));
    if (due === this.timerAt) return;
    this.timerAt = due;
    if (due === Number.POSITIVE_INFINITY) this.timer.cancel();
    else this.timer.set(due, this.exact);
  }

  private run(now: number): void {
    for (;;) {
      if (this.killAt <= now) {
        this.stats.timeouts++;
        const at = this.killAt;
        this.close();
        this.hooks.timedOut(at);
        return;
      }
      if (this.head === this.tail) break;
      const seg = this.queue[this.head] as Segment;
      const ready = seg.attemptAt + this.latencyMs;
      if (ready > now) break;
      if (!this.hooks.upAt(seg.attemptAt)) {
        if (this.afterCut !== undefined) {
          // Lost on a pulled cable, with no one left to send it again.
          this.drop(this.head);
          break;
        }
        // The cable was out when this attempt went: it is lost like any other.
        const next = seg.retryAt;
        this.place(
          seg,
          seg.attempt + 1,
          next !== Number.POSITIVE_INFINITY ? next : seg.attemptAt + rtoAfter(this.policy, seg.attempt),
        );
        continue;
      }
      const at = Math.max(ready, this.lastDelivered);
      if (!this.hooks.deliver(seg.bytes, at)) {
        this.stats.windowStalls++;
        this.stalled = true;
        return;
      }
      this.lastDelivered = at;
      seg.bytes = NO_BYTES;
      this.head++;
      if (this.dead) return;
      this.reverse?.reverseData(seg.attemptAt, at);
    }
    this.finishCut();
    if (this.dead) return;
    if (this.head === this.tail) {
      // Everything sent has arrived (the usual case): the room is used again from its start.
      this.head = 0;
      this.tail = 0;
    } else if (this.head > 64 && this.head * 2 > this.tail) {
      this.queue = this.queue.slice(this.head, this.tail);
      this.tail -= this.head;
      this.head = 0;
    }
    this.arm();
  }
}
