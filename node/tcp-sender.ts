/**
 * The sending side of one TCP connection in one direction, as far as the link model needs it: when
 * each segment is (re)transmitted, which transmission reaches the receiver, when the sender has the
 * ACK, and the connection's retransmission state between segments.
 *
 * Two kinds of sender:
 * - fixed (the W5100, datasheet): every segment starts at RTR and doubles to the cap, RCR
 *   retransmissions; nothing is kept between segments.
 * - Linux: the RTO comes from SRTT/RTTVAR (RFC 6298 §2, Linux's `__tcp_set_rto`: SRTT +
 *   max(4·RTTVAR, TCP_RTO_MIN), at most TCP_RTO_MAX); the first timer of a segment sent on an idle
 *   connection is a tail loss probe (RFC 8985 §7: the probe does not back the RTO off); later
 *   expiries double the RTO (RFC 6298 §5.5); the doubled RTO (`icsk_backoff`) is kept by the
 *   connection until new data is acknowledged (Linux `tcp_ack_update_rtt`: "only reset backoff on
 *   valid RTT measurement"), so a segment sent meanwhile starts from it; and after an RTO Linux is
 *   in the Loss state and retransmits every outstanding segment (`tcp_enter_loss`), so a segment
 *   sent behind an unacknowledged one goes again with the next retransmission of the first.
 *
 * Both: an ACK travels the reverse direction and is lost like any packet there (its own event): a
 * lost ACK delays no delivery, but the sender's timer fires, it retransmits spuriously (the
 * receiver ACKs the duplicate at once, RFC 5681 §4.2) and, for Linux, backs off. The receiver
 * delays a pure ACK (RFC 1122 §4.2.3.2; Linux TCP_DELACK_MIN 40 ms) unless it answers the segment
 * at once, the ACK then riding on the answer.
 */
import { LinuxWindow } from "./link-window.js";
import type { RetryPolicy } from "./retransmit.js";

export interface TcpSide {
  /** Linux's sender (SRTT/RTTVAR, backoff per connection, TLP, Loss state); else fixed per segment. */
  readonly linux: boolean;
  /** Nagle's algorithm (RFC 896, RFC 1122 §4.2.3.4): a small segment waits while one is unacked. */
  readonly nagle: boolean;
  /** The receiver's delayed-ACK timer for a segment it does not answer (0: ACKs at once). */
  readonly delayedAckMs: number;
  /** Linux's congestion window and Loss state after an RTO (node/link-window.ts); Linux senders only. */
  readonly window?: boolean;
}

/** Linux include/net/tcp.h TCP_DELACK_MIN (HZ/25): the shortest delayed-ACK timer. */
export const LINUX_DELACK_MIN_MS = 40;

export const FIXED_SIDE: TcpSide = { linux: false, nagle: false, delayedAckMs: 0 };

/** Whether the receiver answers an MQTT packet at once (its ACK then rides on the answer). */
export function answeredAtOnce(bytes: Buffer): boolean {
  const b = bytes[0] ?? 0;
  const type = b >> 4;
  // CONNECT, PUBLISH at QoS 1/2, PUBREC, PUBREL, SUBSCRIBE, UNSUBSCRIBE, PINGREQ.
  return (
    type === 1 ||
    (type === 3 && (b & 6) !== 0) ||
    type === 5 ||
    type === 6 ||
    type === 8 ||
    type === 10 ||
    type === 12
  );
}

/** What the sampling decided for one segment (or a Nagle group of them). */
export interface Transmissions {
  /** Reaches the receiver: transmission `attempt` (0-based), sent at `attemptAt`. */
  ok: boolean;
  attempt: number;
  attemptAt: number;
  /** The sender has the ACK (Infinity when it gives up first). */
  ackAt: number;
  /** The sender gives up at this time (Infinity when the ACK comes). */
  giveUpAt: number;
  /** Retransmissions sent, spurious ones included. */
  retransmissions: number;
  /** Every transmission time, the first included. */
  times: number[];
}

export interface SampleInput {
  /** First transmission to sample (0, or more when resuming after a cable pull) and its time. */
  readonly from: number;
  readonly at: number;
  /** The receiver answers this segment at once, so its ACK is not delayed. */
  readonly answered: boolean;
  /** Loss of a data transmission, and of the ACK on the reverse direction. */
  readonly dataLost: () => boolean;
  readonly ackLost: () => boolean;
}

/** Retransmission state of one direction of one connection. */
export class TcpSender {
  /** RFC 6298 state; undefined until the first RTT sample. */
  private srtt: number | undefined;
  private rttvar = 0;
  private rtoMs: number;
  /** When the sender has the ACK of everything sent so far. */
  ackAt = Number.NEGATIVE_INFINITY;
  /**
   * The latest unacknowledged segment's transmission times and the backoff exponent of the wait
   * after each: a segment sent before `ackAt` inherits the backoff reached by then (Linux keeps
   * `icsk_backoff` until new data is acknowledged) and goes again with the later ones (Loss state).
   */
  private headTimes: number[] = [];
  private headLevels: number[] = [];
  /** RTT samples taken when their ACK arrives: [arrival, sample]. */
  private pendingRtt: [number, number][] = [];
  /** When the latest unacknowledged segment's data reached the receiver (Infinity: never). */
  private headArrival = Number.POSITIVE_INFINITY;
  /** When that segment's tail loss probe fired (Infinity: it had none, or the ACK came first). */
  private headProbeAt = Number.POSITIVE_INFINITY;
  /** When the latest unacknowledged segment's first RTO fired (the Loss state began). */
  private headLossAt = Number.POSITIVE_INFINITY;
  /** The congestion window, where the side has one. */
  private readonly window: LinuxWindow | undefined;

  constructor(
    private readonly policy: RetryPolicy,
    private readonly side: TcpSide,
    private readonly latencyMs: number,
  ) {
    this.rtoMs = policy.firstRtoMs;
    this.window = side.linux && side.window === true ? new LinuxWindow() : undefined;
  }

  /** The current RTO before backoff (for tests and docs). */
  get rto(): number {
    return this.rtoMs;
  }

  /** The backoff exponent the connection is in at `at` (0 once everything sent is acked). */
  backoffAt(at: number): number {
    if (at >= this.ackAt) return 0;
    let b = 0;
    for (let i = 0; i < this.headTimes.length && (this.headTimes[i] as number) <= at; i++) {
      b = this.headLevels[i] as number;
    }
    return b;
  }

  /**
   * RFC 6298 §2.2–2.3 with Linux's floor: the first sample sets SRTT = R, RTTVAR = R/2; later
   * ones RTTVAR ← ¾·RTTVAR + ¼·|SRTT − R|, SRTT ← ⅞·SRTT + ⅛·R; RTO = SRTT + max(4·RTTVAR,
   * TCP_RTO_MIN), at most TCP_RTO_MAX (Linux `tcp_rtt_estimator`, `__tcp_set_rto`).
   */
  rttSample(r: number): void {
    if (this.srtt === undefined) {
      this.srtt = r;
      this.rttvar = r / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    this.rtoMs = Math.min(this.srtt + Math.max(4 * this.rttvar, this.policy.firstRtoMs), this.policy.capMs);
  }

  /** Wait after a transmission at backoff exponent `b`. */
  private wait(b: number): number {
    return Math.min(this.rtoMs * 2 ** b, this.policy.capMs);
  }

  /**
   * When Nagle holds a segment handed over at `at`: until the outstanding one is acked, or until
   * that one's tail loss probe fires if that is sooner — Linux's probe sends new data when there
   * is some, Nagle off (`tcp_send_loss_probe`: `tcp_write_xmit(sk, mss, TCP_NAGLE_OFF, 2, …)`;
   * RFC 8985 §7.3: "if a previously unsent segment exists … transmit that new segment"), and
   * retransmits the last segment only when there is none.
   */
  releaseAt(at: number): number {
    const nagle = this.nagleReleaseAt(at);
    // The congestion window holds it further while full (the Loss state after an RTO).
    return this.window === undefined ? nagle : this.window.releaseAt(nagle);
  }

  private nagleReleaseAt(at: number): number {
    if (!this.side.nagle || at >= this.ackAt) return at;
    return at < this.headProbeAt && this.headProbeAt < this.ackAt ? this.headProbeAt : this.ackAt;
  }

  /**
   * Everything sent so far is acknowledged at `at` by an ACK the receiver sent with its own data
   * (every segment carries the cumulative ACK, RFC 793 §3.7): the outstanding segment's
   * retransmissions are no longer needed, and the backoff and Loss state end (Linux `tcp_ack`,
   * `tcp_ack_update_rtt`, `tcp_process_loss`). Only an earlier `ackAt` moves.
   */
  ackedAt(at: number): void {
    if (at >= this.ackAt) return;
    this.ackAt = at;
    this.headTimes = [];
    this.headLevels = [];
    this.headProbeAt = Number.POSITIVE_INFINITY;
    this.headArrival = Number.POSITIVE_INFINITY;
    this.headLossAt = Number.POSITIVE_INFINITY;
    this.window?.ackedAll(at);
  }

  /**
   * Samples the transmissions of a segment first sent (or resumed) at `in.at`, and updates the
   * connection's state for the segments after it.
   */
  sample(input: SampleInput): Transmissions {
    const { policy, side, latencyMs } = this;
    const { from, dataLost, ackLost } = input;
    const linux = side.linux;
    this.takeRttSamples(input.at);
    // A segment sent while earlier data is unacked joins the connection's recovery.
    const busy = linux && input.at < this.ackAt;
    let b = busy ? this.backoffAt(input.at) : 0;
    // With a window the Loss state retransmits one segment per ACK (cwnd 1): the head alone.
    const win = this.window !== undefined;
    const carriedBy = busy && !win ? this.headTimes.filter((h) => h > input.at) : [];
    const headAck = this.ackAt;
    const headLoss = busy && win ? this.headLossAt : Number.POSITIVE_INFINITY;
    const out: Transmissions = {
      ok: false,
      attempt: from,
      attemptAt: input.at,
      ackAt: Number.POSITIVE_INFINITY,
      giveUpAt: Number.POSITIVE_INFINITY,
      retransmissions: 0,
      times: [],
    };
    const levels: number[] = [];
    const rtoAt: number[] = [];
    let probeAt = Number.POSITIVE_INFINITY;
    let t = input.at;
    for (let k = from; ; k++) {
      out.times.push(t);
      if (k > from) out.retransmissions++;
      let ackBack = Number.POSITIVE_INFINITY;
      if (!dataLost()) {
        const first = !out.ok;
        if (first) {
          out.ok = true;
          out.attempt = k;
          out.attemptAt = t;
        }
        // A duplicate is ACKed at once; new data after the delayed-ACK timer unless answered.
        const hold = first && !input.answered ? side.delayedAckMs : 0;
        if (!ackLost()) ackBack = t + 2 * latencyMs + hold;
      }
      // The retransmission timer: a tail loss probe on an idle Linux connection (no backoff).
      const probe = linux && k === 0 && b === 0 && !busy;
      levels.push(b);
      const timer = t + this.wait(b);
      let next = timer;
      // Loss state: an earlier unacked segment's retransmission carries this one too.
      const carried = carriedBy.find((h) => h > t);
      if (carried !== undefined && carried < next) next = carried;
      // The earlier segment's ACK ends the backoff and re-arms the timer (Linux tcp_rearm_rto).
      let lossRetransmit = false;
      if (busy && headAck > t && headLoss < headAck) {
        // The head's RTO marked this segment lost too; the ACK that ends the Loss state opens the
        // window and it is retransmitted then (Linux `tcp_process_loss`, `tcp_xmit_retransmit_queue`).
        next = headAck;
        b = 0;
        lossRetransmit = true;
      } else if (busy && headAck > t && headAck < next) {
        next = headAck + this.rtoMs;
        b = 0;
      }
      if (ackBack <= next) {
        out.ackAt = ackBack;
        break;
      }
      if (k >= policy.retries) {
        out.giveUpAt = next;
        if (!out.ok) out.attempt = k;
        break;
      }
      if (probe) probeAt = next;
      else if (!lossRetransmit) b++;
      if (!probe && next === timer) rtoAt.push(next);
      t = next;
    }
    const done = out.ackAt !== Number.POSITIVE_INFINITY ? out.ackAt : out.giveUpAt;
    // ACKs are cumulative (RFC 793 §3.3): this segment's ACK covers an earlier one whose data was
    // already in, however many of that one's own ACKs were lost; its recovery (and backoff) ends.
    const covers = busy && out.ackAt - latencyMs >= this.headArrival;
    if (done >= this.ackAt || covers) {
      this.headTimes = out.times;
      this.headLevels = levels;
      this.headArrival = out.ok ? out.attemptAt + latencyMs : Number.POSITIVE_INFINITY;
      this.headProbeAt = probeAt;
      this.headLossAt = rtoAt[0] ?? Number.POSITIVE_INFINITY;
      this.ackAt = done;
    }
    if (this.window !== undefined && from === 0) {
      // A probe that got through where the original did not repaired a loss (RFC 8985 §7.4.2).
      const repaired =
        out.ok && out.attempt === 1 && out.attemptAt === probeAt && out.ackAt < Number.POSITIVE_INFINITY;
      this.window.record(
        input.at,
        done,
        out.ackAt < Number.POSITIVE_INFINITY,
        rtoAt,
        repaired ? out.ackAt : undefined,
      );
    }
    // New data acknowledged with a valid RTT sample (timestamps make a retransmission's valid too).
    if (linux && out.ackAt !== Number.POSITIVE_INFINITY) {
      this.pendingRtt.push([out.ackAt, out.ackAt - (out.times[out.times.length - 1] as number)]);
    }
    return out;
  }

  /** Feeds the estimator the samples whose ACK has arrived by `at`. */
  private takeRttSamples(at: number): void {
    if (this.pendingRtt.length === 0) return;
    const later: [number, number][] = [];
    for (const [when, r] of this.pendingRtt) {
      if (when <= at) this.rttSample(r);
      else later.push([when, r]);
    }
    this.pendingRtt = later;
  }
}
