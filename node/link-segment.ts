/**
 * What a link path (node/link-path.ts) keeps of each segment it has sent and not yet delivered:
 * its bytes and its sampled transmissions, and, for the partial ACK of the Loss state
 * (`TcpSide.partialAck`), the transmission sent at the ACK of the segment ahead.
 */

export interface Segment {
  bytes: Buffer;
  /** The transmission that gets through, and when it is sent. */
  attempt: number;
  attemptAt: number;
  /**
   * The sender's next transmission after the one at `attemptAt` (Infinity: none sampled): the one
   * that carries the data when the cable was out at `attemptAt`.
   */
  retryAt: number;
  /**
   * The transmission sent at the ACK of the segment ahead in the Loss state (`Transmissions`), its
   * index and time (Infinity: none), and the transmissions of that segment (for the RTT sample).
   */
  atAckIndex: number;
  atAckAt: number;
  ahead: { readonly times: readonly number[]; readonly arrived: readonly boolean[] } | undefined;
  /** The index after its last sampled transmission (those from `atAckIndex` on are replaced). */
  sent: number;
}

/** A new segment for `bytes`, nothing sampled yet. */
export function newSegment(bytes: Buffer): Segment {
  return {
    bytes,
    attempt: 0,
    attemptAt: 0,
    retryAt: Number.POSITIVE_INFINITY,
    atAckIndex: 0,
    atAckAt: Number.POSITIVE_INFINITY,
    ahead: undefined,
    sent: 0,
  };
}

/** `to`, coalesced with `from` (Nagle), shares its transmissions. */
export function shareSchedule(to: Segment, from: Segment): void {
  to.attempt = from.attempt;
  to.attemptAt = from.attemptAt;
  to.retryAt = from.retryAt;
  to.atAckIndex = from.atAckIndex;
  to.atAckAt = from.atAckAt;
  to.ahead = from.ahead;
  to.sent = from.sent;
}
