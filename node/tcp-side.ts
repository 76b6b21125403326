/**
 * What the link model's TCP senders (node/tcp-sender.ts) are told and tell: which rules a side
 * follows (`TcpSide`), what the sampling of one segment decided (`Transmissions`) and what it is
 * given (`SampleInput`), and the small helpers around them.
 */
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
  /**
   * The RTT sample of an ACK carried by data is the timestamp it echoes (RFC 7323 §4.3; Linux
   * `tcp_ack_update_rtt` falls back on TSecr when retransmitted data is acknowledged, Karn's rule):
   * the latest of the head's transmissions that had reached the receiver when the carrying segment
   * left, not the latest sent, which may have been lost.
   */
  readonly tsEcho?: boolean;
  /**
   * The partial ACK in the Loss state: the other direction's data acknowledges the segment ahead of
   * one waiting for that segment's ACK, which then goes at once (node/link-path.ts).
   */
  readonly partialAck?: boolean;
  /**
   * The ACK of the segment ahead, leaving the receiver after a later segment is in, acknowledges
   * that one too (RFC 9293 §3.4: the next byte expected), with the one RTT sample Linux takes
   * for it (node/tcp-sender.ts, `headAckSample`).
   */
  readonly headAckCovers?: boolean;
  /**
   * Linux's tail loss probe sends new data if there is some, else the last segment
   * (`tcp_send_loss_probe`): a segment handed over before the head's probe fires takes the probe,
   * and the head is not sent again until its RTO, one RTO after the probe (`tcp_rearm_rto`).
   */
  readonly probeLast?: boolean;
  /**
   * The ACK carried by data samples the segment it acknowledges: a segment held (Loss state, Nagle)
   * and placed at its release has not left when the carrying segment did; the timestamp echoed is
   * of the one before it.
   */
  readonly heldSample?: boolean;
  /**
   * With `probeLast`: the probe arriving while the head is missing is ACKed at once with its SACK,
   * and RACK (RFC 8985 §6.2, `tcp_rack_detect_loss`) sends the head again on it.
   */
  readonly probeRack?: boolean;
  /**
   * With `probeLast`: a later segment in before the head, its SACK back, has RACK send the head
   * again at once (RFC 8985 §6.2, `tcp_rack_detect_loss`).
   */
  readonly sackRack?: boolean;
  /**
   * BBR's cwnd in the Loss state (Linux `bbr_set_cwnd`, net/ipv4/tcp_bbr.c: on an ACK that
   * delivers something, `acked_sacked` > 0, cwnd = max(cwnd, `bbr_cwnd_min_target` 4)): the ACK of
   * the segment ahead opens the window `tcp_enter_loss` set to 1, so new data (Nagle off) goes at
   * it, not at the ACK of everything sent; its SACK then has RACK send the head again (`sackRack`).
   */
  readonly bbrCwnd?: boolean;
  /**
   * With `bbrCwnd`: every later ACK that delivers something, a SACK alone included (`acked_sacked`
   * counts SACKed packets), keeps cwnd at 4 or more, so the window BBR opened stays open to new
   * data until an RTO sets cwnd back to 1 (`tcp_enter_loss`), not only until the next segment goes.
   */
  readonly bbrCwndKept?: boolean;
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
  /**
   * With `partialAck`: the transmission sent at the earlier segment's ACK in the Loss state, its
   * index and time (Infinity: none was), and that earlier segment's transmissions and whether each
   * reached the receiver (for the RTT sample of a partial ACK).
   */
  atAckIndex: number;
  atAckAt: number;
  aheadTimes: number[] | undefined;
  aheadArrived: boolean[] | undefined;
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
  /**
   * Neither can lose anything (no draws): a first transmission on an idle connection is placed
   * without the sampling loop (node/tcp-certain.ts), with the same answer.
   */
  readonly certain?: boolean;
}

/** A `SampleInput` a caller refills for each segment. */
export type SampleRequest = { -readonly [K in keyof SampleInput]-?: SampleInput[K] };

/** Transmission `k`, sent at `t`, reached the receiver: true when it is the first to (`out` records it). */
export function firstArrival(out: Transmissions, k: number, t: number): boolean {
  if (out.ok) return false;
  out.ok = true;
  out.attempt = k;
  out.attemptAt = t;
  return true;
}

/**
 * Starts `out` over for a segment whose sampling begins with transmission `attempt` at `at`: nothing
 * has reached the receiver, no ACK, no give-up, nothing sent again or carried from an earlier one.
 */
export function restartTransmissions(out: Transmissions, attempt: number, at: number): void {
  out.ok = false;
  out.attempt = attempt;
  out.attemptAt = at;
  out.ackAt = Number.POSITIVE_INFINITY;
  out.giveUpAt = Number.POSITIVE_INFINITY;
  out.retransmissions = 0;
  out.atAckIndex = 0;
  out.atAckAt = Number.POSITIVE_INFINITY;
  out.aheadTimes = undefined;
  out.aheadArrived = undefined;
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
  return {
    ok: false,
    attempt: 0,
    attemptAt: 0,
    ackAt: 0,
    giveUpAt: 0,
    retransmissions: 0,
    times: [],
    atAckIndex: 0,
    atAckAt: Number.POSITIVE_INFINITY,
    aheadTimes: undefined,
    aheadArrived: undefined,
  };
}
