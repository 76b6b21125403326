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
 *   sent behind an unacknowledged one goes again with the next retransmission of the first — or,
 *   with `rtoHeadAlone` (a Linux node's connection), with the first's probe, and after an RTO (which
 *   sends the head alone) at the first's ACK, as new data handed over meanwhile does (cwnd 1).
 *
 * Both: an ACK travels the reverse direction and is lost like any packet there (its own event): a
 * lost ACK delays no delivery, but the sender's timer fires, it retransmits spuriously (the
 * receiver ACKs the duplicate at once, RFC 5681 §4.2) and, for Linux, backs off. On a Linux node's
 * connection the other end's data carries the ACK too (`ackedAt`, from node/link-path.ts; with
 * `dataAckRtt` it is an RTT sample like a pure ACK's). The receiver
 * delays a pure ACK (RFC 1122 §4.2.3.2; Linux TCP_DELACK_MIN 40 ms) unless it answers the segment
 * at once, the ACK then riding on the answer.
 */
import type { RetryPolicy } from "./retransmit.js";

export interface TcpSide {
  /** Linux's sender (SRTT/RTTVAR, backoff per connection, TLP, Loss state); else fixed per segment. */
  readonly linux: boolean;
  /** Nagle's algorithm (RFC 896, RFC 1122 §4.2.3.4): a small segment waits while one is unacked. */
  readonly nagle: boolean;
  /** The receiver's delayed-ACK timer for a segment it does not answer (0: ACKs at once). */
  readonly delayedAckMs: number;
  /**
   * Linux's Loss state as it retransmits (a Linux node's connection): an RTO sends the head alone
   * (`tcp_retransmit_timer`), the segments behind it go again when its ACK comes (`tcp_enter_loss`
   * marks them lost with cwnd 1; `tcp_xmit_retransmit_queue`); without it they go with every
   * retransmission of the head.
   */
  readonly rtoHeadAlone?: boolean;
  /**
   * The ACK carried by the other direction's data (`ackedAt`) gives an RTT sample, as every ACK of
   * new data does (Linux `tcp_clean_rtx_queue`, `tcp_ack_update_rtt`); without it only pure ACKs do.
   */
  readonly dataAckRtt?: boolean;
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

/** The first of the first `count` of `times` (in order) after `t` (Infinity when none is). */
export function firstAfter(times: readonly number[], count: number, t: number): number {
  for (let i = 0; i < count; i++) {
    const h = times[i] as number;
    if (h > t) return h;
  }
  return Number.POSITIVE_INFINITY;
}

/** An answer for `sampleInto` to fill. */
export function blankTransmissions(): Transmissions {
  return { ok: false, attempt: 0, attemptAt: 0, ackAt: 0, giveUpAt: 0, retransmissions: 0, times: [] };
}

/** Retransmission state of one direction of one connection. */
export class TcpSender {
  /** RFC 6298 state; undefined until the first RTT sample. */
  /** SRTT, meaningful once `measured` (a number field throughout, so updating it allocates nothing). */
  private srtt = 0;
  private measured = false;
  private rttvar = 0;
  private rtoMs: number;
  /** When the sender has the ACK of everything sent so far. */
  ackAt = Number.NEGATIVE_INFINITY;
  /**
   * The latest unacknowledged segment's transmission times and the backoff exponent of the wait
   * after each: a segment sent before `ackAt` inherits the backoff reached by then (Linux keeps
   * `icsk_backoff` until new data is acknowledged) and goes again with the later ones (Loss state).
   */
  private readonly headTimes: number[] = [];
  private readonly headLevels: number[] = [];
  /**
   * How many of `headTimes`/`headLevels` are that segment's: the arrays are the sender's own and
   * copied into, so what a connection keeps between segments (minutes) is not a new array per segment.
   */
  private headCount = 0;
  /** The backoff exponent after each transmission of the segment being sampled (reused). */
  private readonly levels: number[] = [];
  /**
   * RTT samples taken when their ACK arrives: the arrival times, and the samples beside them; the
   * first `rttCount` are pending. Counted rather than cut to length: an array emptied (length 0)
   * gives its room up and takes new room on its next push — twice per segment on a Linux sender.
   */
  private readonly rttWhen: number[] = [];
  private readonly rttSamples: number[] = [];
  private rttCount = 0;
  /** When the latest unacknowledged segment's data reached the receiver (Infinity: never). */
  private headArrival = Number.POSITIVE_INFINITY;
  /** When that segment's tail loss probe fired (Infinity: it had none, or the ACK came first). */
  private headProbeAt = Number.POSITIVE_INFINITY;

  constructor(
    private readonly policy: RetryPolicy,
    private readonly side: TcpSide,
    private readonly latencyMs: number,
  ) {
    this.rtoMs = policy.firstRtoMs;
  }

  /** The current RTO before backoff (for tests and docs). */
  get rto(): number {
    return this.rtoMs;
  }

  /** The backoff exponent the connection is in at `at` (0 once everything sent is acked). */
  backoffAt(at: number): number {
    if (at >= this.ackAt) return 0;
    let b = 0;
    for (let i = 0; i < this.headCount && (this.headTimes[i] as number) <= at; i++) {
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
    if (!this.measured) {
      this.measured = true;
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
   * When a segment handed over at `at` goes. In the Loss state (after an RTO, `rtoHeadAlone`):
   * at the ACK — `tcp_enter_loss` sets cwnd to the packets in flight + 1, and with the head's
   * retransmission in flight new data waits for its ACK (`tcp_write_xmit` stops at
   * `tcp_cwnd_test`), whatever the congestion control. Else, when Nagle holds it: until the
   * outstanding one is acked, or until that one's tail loss probe fires if that is sooner — Linux's
   * probe sends new data when there is some, Nagle off (`tcp_send_loss_probe`:
   * `tcp_write_xmit(sk, mss, TCP_NAGLE_OFF, 2, …)`; RFC 8985 §7.3: "if a previously unsent segment
   * exists … transmit that new segment"), and retransmits the last segment only when there is none.
   */
  releaseAt(at: number): number {
    if (at >= this.ackAt) return at;
    if (this.side.rtoHeadAlone === true && this.backoffAt(at) > 0) return this.ackAt;
    if (!this.side.nagle) return at;
    return at < this.headProbeAt && this.headProbeAt < this.ackAt ? this.headProbeAt : this.ackAt;
  }

  /**
   * Everything sent so far is acknowledged at `at` by an ACK the receiver sent with its own data
   * (every segment carries the cumulative ACK, RFC 793 §3.7): the backoff and Loss state end (Linux
   * `tcp_ack`, `tcp_process_loss`). Only an earlier `ackAt` moves; true when it did. `sentAt`: when
   * the carrying segment left (its ACK is read on arrival, `sentAt` + latency, in order or not).
   */
  ackedAt(at: number, sentAt = at): boolean {
    if (at >= this.ackAt) return false;
    if (this.side.dataAckRtt === true && this.side.linux && this.headCount > 0) {
      // An RTT sample (RFC 7323 §4.1: the timestamp it echoes is the latest transmission in when
      // the carrying segment left); the pure ACKs still to come are duplicates and give none.
      this.takeRttSamples(at);
      this.rttCount = 0;
      let last = this.headTimes[0] as number;
      for (let i = 1; i < this.headCount && (this.headTimes[i] as number) <= sentAt; i++) {
        last = this.headTimes[i] as number;
      }
      this.rttSample(Math.max(sentAt + this.latencyMs - last, 0));
    }
    this.ackAt = at;
    this.headCount = 0;
    this.headProbeAt = Number.POSITIVE_INFINITY;
    this.headArrival = Number.POSITIVE_INFINITY;
    return true;
  }

  /**
   * Samples the transmissions of a segment first sent (or resumed) at `in.at`, and updates the
   * connection's state for the segments after it.
   */
  sample(input: SampleInput): Transmissions {
    return this.sampleInto(input, blankTransmissions());
  }

  /**
   * `sample`, its answer written into `out` (a caller's own, reused per segment), `out.times` included:
   * a caller that keeps the times past its next call copies them.
   */
  sampleInto(input: SampleInput, out: Transmissions): Transmissions {
    const { policy, side, latencyMs } = this;
    const { from, dataLost, ackLost } = input;
    const linux = side.linux;
    this.takeRttSamples(input.at);
    // A segment sent while earlier data is unacked joins the connection's recovery.
    const busy = linux && input.at < this.ackAt;
    let b = busy ? this.backoffAt(input.at) : 0;
    // The earlier segment's transmissions (in order; not changed before this one is placed).
    const carriedBy = busy ? this.headCount : 0;
    const headAck = this.ackAt;
    out.ok = false;
    out.attempt = from;
    out.attemptAt = input.at;
    out.ackAt = Number.POSITIVE_INFINITY;
    out.giveUpAt = Number.POSITIVE_INFINITY;
    out.retransmissions = 0;
    // Written in place and cut to length at the end: emptied first, the array would lose its room.
    const times = out.times;
    times[0] = input.at;
    const levels = this.levels;
    levels[0] = b;
    let nLevels = 1;
    let probeAt = Number.POSITIVE_INFINITY;
    let t = input.at;
    for (let k = from; ; k++) {
      if (k > from) {
        times[nLevels] = t;
        levels[nLevels++] = b;
        out.retransmissions++;
      }
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
      let next = t + this.wait(b);
      // Sent again at the earlier segment's ACK (no timer of its own: the next wait is one RTO).
      let atAck = false;
      if (busy && side.rtoHeadAlone === true) {
        // Its probe carries this one; its RTO does not: the head alone, this one marked lost.
        const rtoAt = this.headAfter(carriedBy, t, true);
        const probeAt = this.headAfter(carriedBy, t, false);
        if (probeAt < next && probeAt < rtoAt) next = probeAt;
        if (rtoAt < next && rtoAt < headAck) {
          next = headAck;
          atAck = true;
        }
      } else {
        // Loss state: an earlier unacked segment's retransmission carries this one too.
        const carried = firstAfter(this.headTimes, carriedBy, t);
        if (carried < next) next = carried;
      }
      // The earlier segment's ACK ends the backoff and re-arms the timer (Linux tcp_rearm_rto).
      if (!atAck && busy && headAck > t && headAck < next) {
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
      if (atAck) b = 0;
      else if (!probe) b++;
      else probeAt = next;
      t = next;
    }
    times.length = nLevels;
    const done = out.ackAt !== Number.POSITIVE_INFINITY ? out.ackAt : out.giveUpAt;
    // ACKs are cumulative (RFC 793 §3.3): this segment's ACK covers an earlier one whose data was
    // already in, however many of that one's own ACKs were lost; its recovery (and backoff) ends.
    const covers = busy && out.ackAt - latencyMs >= this.headArrival;
    if (done >= this.ackAt || covers) {
      const n = nLevels;
      for (let i = 0; i < n; i++) {
        this.headTimes[i] = times[i] as number;
        this.headLevels[i] = levels[i] as number;
      }
      this.headCount = n;
      this.headArrival = out.ok ? out.attemptAt + latencyMs : Number.POSITIVE_INFINITY;
      this.headProbeAt = probeAt;
      this.ackAt = done;
    }
    // New data acknowledged with a valid RTT sample (timestamps make a retransmission's valid too).
    if (linux && out.ackAt !== Number.POSITIVE_INFINITY) {
      this.rttWhen[this.rttCount] = out.ackAt;
      this.rttSamples[this.rttCount] = out.ackAt - (times[nLevels - 1] as number);
      this.rttCount++;
    }
    return out;
  }

  /**
   * The first of the head's first `count` transmissions after `t` that an RTO sent (its backoff
   * rose), or (`rto` false) that a probe or an ACK sent, Infinity when there is none.
   */
  private headAfter(count: number, t: number, rto: boolean): number {
    const times = this.headTimes;
    const levels = this.headLevels;
    for (let i = 1; i < count; i++) {
      const h = times[i] as number;
      if (h > t && (levels[i] as number) > (levels[i - 1] as number) === rto) return h;
    }
    return Number.POSITIVE_INFINITY;
  }

  /** Feeds the estimator the samples whose ACK has arrived by `at`. */
  private takeRttSamples(at: number): void {
    const whens = this.rttWhen;
    const samples = this.rttSamples;
    const n = this.rttCount;
    if (n === 0) return;
    // In order, keeping the later ones in place (no arrays made per segment).
    let kept = 0;
    for (let i = 0; i < n; i++) {
      const when = whens[i] as number;
      const r = samples[i] as number;
      if (when <= at) this.rttSample(r);
      else {
        whens[kept] = when;
        samples[kept] = r;
        kept++;
      }
    }
    this.rttCount = kept;
  }
}
