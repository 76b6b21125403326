/**
 * A segment's sampling when nothing can be lost (node/tcp-sender.ts's `sampleInto` with `certain`):
 * a lossless link (loss "none" or a probability of 0, in both directions) draws nothing, so a
 * segment sent on an idle connection goes once, gets in at once and is ACKed after the round trip
 * (plus the receiver's delayed ACK unless it answers at once). This writes the answer and the
 * sender's record as the general sampling loop would, without running it; anything else (a
 * connection still waiting for an ACK, a resumed segment, a fate drawn ahead, `heldSample`, an RTO
 * shorter than the round trip) is left to that loop. The hour's run (no loss) places every segment
 * here; tests compare the two on the same segments (node/test/tcp-certain.test.ts).
 */
import { keptOpen } from "./tcp-head.js";
import type { TcpSender } from "./tcp-sender.js";
import { restartTransmissions, type Transmissions } from "./tcp-side.js";

/**
 * Places the segment handed over at `at` (its first transmission, `answered` at once or not) on a
 * link that loses nothing, into `out` and the sender's record; false (nothing written) when the
 * general loop must sample it. The caller has already fed the estimator its due RTT samples.
 */
export function placeCertain(s: TcpSender, at: number, answered: boolean, out: Transmissions): boolean {
  const side = s.side;
  const linux = side.linux;
  // Busy (Linux, earlier data unacked), `heldSample`, or a fate drawn ahead: the general loop.
  if ((linux && at < s.ackAt) || side.heldSample === true) return false;
  if (s.injectAt[0] === at || s.injectAt[1] === at) return false;
  const ackBack = at + 2 * s.latencyMs + (answered ? 0 : side.delayedAckMs);
  // The ACK must come back before the first timer would send it again (else: spurious retransmissions).
  if (!(ackBack <= at + s.wait(0))) return false;
  restartTransmissions(out, 0, at);
  out.ok = true;
  out.ackAt = ackBack;
  const times = out.times;
  times[0] = at;
  times.length = 1;
  s.laterProbeAt = Number.POSITIVE_INFINITY;
  s.injectAt[0] = Number.NaN;
  s.injectAt[1] = Number.NaN;
  if (ackBack >= s.ackAt) {
    s.aheadAckAt = keptOpen(s, at);
    s.headTimes[0] = at;
    s.headLevels[0] = 0;
    s.headArrived[0] = true;
    s.headCount = 1;
    s.headArrival = at + s.latencyMs;
    s.headProbeAt = Number.POSITIVE_INFINITY;
    s.headAnswered = answered;
    s.ackAt = ackBack;
    s.headAcked = true;
  }
  if (linux) {
    s.rttWhen[s.rttCount] = ackBack;
    s.rttSamples[s.rttCount] = ackBack - at;
    s.rttCount++;
  }
  return true;
}
