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
 * `dataAckRtt` it is an RTT sample like a pure ACK's, with `tsEcho` from the timestamp it echoes,
 * and with `partialAck` one that acknowledges only the segment ahead of one waiting in the Loss
 * state is taken too; with `heldSample` a segment held meanwhile is not the one sampled). With
 * `headAckCovers` the ACK of a segment covers a later one already in; with `probeLast` (and
 * `probeRack`, `sackRack`) the head's probe goes to a later segment and RACK sends the head again
 * (node/tcp-head.ts); with `bbrCwnd` (BBR's cwnd) the ACK of the segment ahead of the head opens
 * the Loss state's window to new data (`bbrCwndKept`: until the next RTO). The receiver delays a
 * pure ACK (RFC 1122 §4.2.3.2; Linux TCP_DELACK_MIN 40 ms) unless it answers the segment at once,
 * the ACK then riding on the answer.
 */
import type { RetryPolicy } from "./retransmit.js";
import { placeCertain } from "./tcp-certain.js";
import { cwndOpenAt, headAckSample, headAfter, keptOpen } from "./tcp-head.js";
import type { SampleInput, TcpSide, Transmissions } from "./tcp-side.js";
import { blankTransmissions, firstAfter, firstArrival, restartTransmissions } from "./tcp-side.js";

export type { TcpSide } from "./tcp-side.js";

/**
 * Retransmission state of one direction of one connection. The head's record (`head*`), the pending
 * RTT samples and the fates drawn ahead (`inject*`) are node/tcp-head.ts's to read and write too.
 */
export class TcpSender {
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
  readonly headTimes: number[] = [];
  readonly headLevels: number[] = [];
  /** Whether each of `headTimes` reached the receiver (`tsEcho`). */
  readonly headArrived: boolean[] = [];
  /** Whether each transmission of the segment being sampled reached the receiver (reused). */
  private readonly arrived: boolean[] = [];
  /**
   * How many of `headTimes`/`headLevels` are that segment's: the arrays are the sender's own and
   * copied into, so what a connection keeps between segments (minutes) is not a new array per segment.
   */
  headCount = 0;
  /** The backoff exponent after each transmission of the segment being sampled (reused). */
  private readonly levels: number[] = [];
  /**
   * RTT samples taken when their ACK arrives: the arrival times, and the samples beside them; the
   * first `rttCount` are pending. Counted rather than cut to length: an array emptied (length 0)
   * gives its room up and takes new room on its next push — twice per segment on a Linux sender.
   */
  readonly rttWhen: number[] = [];
  readonly rttSamples: number[] = [];
  rttCount = 0;
  /** When the latest unacknowledged segment's data reached the receiver (Infinity: never). */
  headArrival = Number.POSITIVE_INFINITY;
  /** When that segment's tail loss probe fired (Infinity: it had none, or the ACK came first). */
  headProbeAt = Number.POSITIVE_INFINITY;
  /** Whether `ackAt` is an ACK (not the head's giving up). */
  headAcked = false;
  /** `heldSample`: the record of the segment before the head, kept when the head replaced it. */
  private readonly prevTimes: number[] = [];
  private readonly prevArrived: boolean[] = [];
  private prevCount = 0;
  /** Whether the receiver answers the head at once (its first arrival's ACK is not delayed). */
  headAnswered = false;
  /** `bbrCwnd`: the ACK of the segment ahead of the head, one that delivers something (Infinity: none). */
  aheadAckAt = Number.POSITIVE_INFINITY;
  /** `bbrCwndKept`: the RTO that closes the window `aheadAckAt` opened (Infinity: none yet). */
  cwndCloseAt = Number.POSITIVE_INFINITY;
  /** `probeLast`: the head's probe, taken by the segment being placed (Infinity: none). */
  laterProbeAt = Number.POSITIVE_INFINITY;
  /** The new segment's transmissions whose fate was drawn ahead (`probeToLater`): times, in, ACK back. */
  readonly injectAt: number[] = [Number.NaN, Number.NaN];
  readonly injectIn: boolean[] = [false, false];
  readonly injectAck: boolean[] = [false, false];

  constructor(
    readonly policy: RetryPolicy,
    readonly side: TcpSide,
    readonly latencyMs: number,
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
  wait(b: number): number {
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
    if (this.side.rtoHeadAlone === true && this.backoffAt(at) > 0) {
      // `bbrCwnd`: the ACK of the segment ahead opens the window (node/tcp-head.ts, `cwndOpenAt`).
      if (cwndOpenAt(this, at)) return at;
      const open = this.aheadAckAt;
      return open > at && cwndOpenAt(this, open) ? open : this.ackAt;
    }
    if (!this.side.nagle) return at;
    return at < this.headProbeAt && this.headProbeAt < this.ackAt ? this.headProbeAt : this.ackAt;
  }

  /**
   * Everything sent so far is acknowledged at `at` by an ACK the receiver sent with its own data
   * (every segment carries the cumulative ACK, RFC 793 §3.7): the backoff and Loss state end (Linux
   * `tcp_ack`, `tcp_process_loss`). Only an earlier `ackAt` moves; true when it did. `sentAt`: when
   * the carrying segment left (its ACK is read on arrival, `sentAt` + latency, in order or not).
   * `ahead` (`partialAck`): the ACK is partial, it covers the segment ahead of the one whose times
   * the sender keeps, and its RTT sample is taken from that segment's transmissions; the caller then
   * sends the one behind it again (node/link-path.ts).
   */
  ackedAt(
    at: number,
    sentAt = at,
    ahead:
      | { readonly times: readonly number[]; readonly arrived: readonly boolean[] }
      | undefined = undefined,
  ): boolean {
    if (at >= this.ackAt) return false;
    let times: readonly number[] = ahead?.times ?? this.headTimes;
    let count = ahead?.times.length ?? this.headCount;
    let arrivedAt: readonly boolean[] = ahead?.arrived ?? this.headArrived;
    if (this.side.heldSample === true && ahead === undefined && count > 0 && (times[0] as number) > sentAt) {
      times = this.prevTimes;
      count = this.prevCount;
      arrivedAt = this.prevArrived;
    }
    if (this.side.dataAckRtt === true && this.side.linux && count > 0) {
      // An RTT sample (RFC 7323: the timestamp it echoes, TS.Recent, is the latest transmission in
      // when the carrying segment left; with `tsEcho` one that got in, else the latest sent); the
      // pure ACKs still to come are duplicates and give none.
      this.takeRttSamples(at);
      this.rttCount = 0;
      let last = times[0] as number;
      const echo = this.side.tsEcho === true;
      for (let i = 1; i < count && (times[i] as number) <= sentAt; i++) {
        const h = times[i] as number;
        if (!echo || (arrivedAt[i] === true && h + this.latencyMs <= sentAt)) last = h;
      }
      this.rttSample(Math.max(sentAt + this.latencyMs - last, 0));
    }
    this.ackAt = at;
    this.headAcked = true;
    this.aheadAckAt = Number.POSITIVE_INFINITY;
    this.cwndCloseAt = Number.POSITIVE_INFINITY;
    this.headCount = 0;
    this.prevCount = 0;
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
    if (input.certain === true && from === 0 && placeCertain(this, input.at, input.answered, out)) return out;
    // A segment sent while earlier data is unacked joins the connection's recovery.
    const busy = linux && input.at < this.ackAt;
    let b = busy ? this.backoffAt(input.at) : 0;
    // The earlier segment's transmissions (in order; not changed before this one is placed).
    const carriedBy = busy ? this.headCount : 0;
    const headAck = this.ackAt;
    restartTransmissions(out, from, input.at);
    /** `headAckCovers`: the transmission of this segment that the head's ACK covers (NaN: none). */
    let coveredAt = Number.NaN;
    // Written in place and cut to length at the end: emptied first, the array would lose its room.
    const times = out.times;
    times[0] = input.at;
    const levels = this.levels;
    levels[0] = b;
    const arrived = this.arrived;
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
      const slot = t === this.injectAt[0] && k === from ? 0 : t === this.injectAt[1] ? 1 : -1;
      const injected = slot >= 0;
      const got = injected ? this.injectIn[slot] === true : !dataLost();
      arrived[nLevels - 1] = got;
      if (got) {
        const first = firstArrival(out, k, t);
        // A duplicate is ACKed at once; new data after the delayed-ACK timer unless answered.
        const hold = first && !input.answered && !injected ? side.delayedAckMs : 0;
        if (injected ? this.injectAck[slot] === true : !ackLost()) ackBack = t + 2 * latencyMs + hold;
        // The ACK of the segment ahead leaves the receiver after this one is in: it is cumulative
        // (RFC 9293 §3.4, the next byte expected) and acknowledges this one too.
        if (side.headAckCovers === true && busy && this.headAcked && t + 2 * latencyMs <= headAck) {
          if (headAck < ackBack) {
            ackBack = headAck;
            coveredAt = t;
          }
        }
      }
      // The retransmission timer: a tail loss probe on an idle Linux connection (no backoff).
      const probe = linux && k === 0 && b === 0 && !busy;
      let next = t + this.wait(b);
      // Sent again at the earlier segment's ACK (no timer of its own: the next wait is one RTO).
      let atAck = false;
      if (busy && side.rtoHeadAlone === true) {
        // Its probe carries this one; its RTO does not: the head alone, this one marked lost.
        const rtoAt = headAfter(this, carriedBy, t, true);
        let probeAt = headAfter(this, carriedBy, t, false);
        if (this.laterProbeAt > t && this.laterProbeAt < probeAt) probeAt = this.laterProbeAt;
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
      if (atAck) {
        b = 0;
        if (side.partialAck === true && out.atAckAt === Number.POSITIVE_INFINITY) {
          out.atAckIndex = k + 1;
          out.atAckAt = next;
          out.aheadTimes = this.headTimes.slice(0, carriedBy);
          out.aheadArrived = this.headArrived.slice(0, carriedBy);
        }
      } else if (!probe) b++;
      else probeAt = next;
      t = next;
    }
    times.length = nLevels;
    this.laterProbeAt = Number.POSITIVE_INFINITY;
    this.injectAt[0] = Number.NaN;
    this.injectAt[1] = Number.NaN;
    const done = out.ackAt !== Number.POSITIVE_INFINITY ? out.ackAt : out.giveUpAt;
    // ACKs are cumulative (RFC 793 §3.3): this segment's ACK covers an earlier one whose data was
    // already in, however many of that one's own ACKs were lost; its recovery (and backoff) ends.
    const covers = busy && out.ackAt - latencyMs >= this.headArrival;
    // One ACK, one sample: covered by the head's ACK, this segment's is the head's.
    const covered = !Number.isNaN(coveredAt) && out.ackAt === headAck;
    if (covered) headAckSample(this, headAck, carriedBy, coveredAt);
    if (done >= this.ackAt || covers) {
      // `bbrCwnd`: the first ACK still to come that delivers something (the one ahead's, or its own).
      const ahead = busy && this.headAcked && headAck > input.at ? headAck : Number.POSITIVE_INFINITY;
      this.aheadAckAt = Math.min(keptOpen(this, input.at), ahead);
      if (side.heldSample === true) {
        for (let i = 0; i < this.headCount; i++) {
          this.prevTimes[i] = this.headTimes[i] as number;
          this.prevArrived[i] = this.headArrived[i] === true;
        }
        this.prevCount = this.headCount;
      }
      const n = nLevels;
      for (let i = 0; i < n; i++) {
        this.headTimes[i] = times[i] as number;
        this.headLevels[i] = levels[i] as number;
        this.headArrived[i] = arrived[i] === true;
      }
      this.headCount = n;
      this.headArrival = out.ok ? out.attemptAt + latencyMs : Number.POSITIVE_INFINITY;
      this.headProbeAt = probeAt;
      this.headAnswered = input.answered;
      this.ackAt = done;
      this.headAcked = out.ackAt !== Number.POSITIVE_INFINITY;
    }
    // New data acknowledged with a valid RTT sample (timestamps make a retransmission's valid too).
    if (linux && out.ackAt !== Number.POSITIVE_INFINITY && !covered) {
      this.rttWhen[this.rttCount] = out.ackAt;
      this.rttSamples[this.rttCount] = out.ackAt - (times[nLevels - 1] as number);
      this.rttCount++;
    }
    return out;
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
