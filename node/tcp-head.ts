/**
 * What happens to a Linux sender's record of its latest unacknowledged segment (the head, node/tcp-sender.ts)
 * when a later segment changes it: Linux's tail loss probe sends the later segment or the new data
 * rather than the head, and that probe's SACK, or the later segment's own, has RACK send the head
 * again (`probeToLater`); the head's ACK covering a later segment already in gives one RTT sample
 * (`headAckSample`); which of the head's transmissions an RTO or a probe sent (`headAfter`); and
 * the window BBR opens in the Loss state (`cwndOpenAt`, `keptOpen`).
 */
import type { TcpSender } from "./tcp-sender.js";
import { firstArrival, restartTransmissions, type Transmissions } from "./tcp-side.js";

/**
 * `probeLast` (and `sackRack`): a segment handed over at `at` whose first transmission goes at
 * `release`, the head still unacknowledged. With `sackRack`, when that segment gets in before the
 * head's data and its SACK gets back, RACK (RFC 8985 §6.2, `tcp_rack_detect_loss`) sends the head
 * again at once (2·latency on), its RTO re-armed from then; no probe (Recovery). Else, with both
 * no later than the head's pending tail loss probe: Linux's probe sends that one (new data, Nagle
 * off; or, with it already out, the last segment, `skb_rb_last`), not the head, and re-arms the
 * RTO one RTO from then (`tcp_rearm_rto` with `icsk_pending` 0). The head's transmissions from
 * then are drawn again; `out` gets its new schedule (its `retransmissions`: the change in their
 * count) and the answer is the old time its data was sent in (else its giving up), or undefined
 * when nothing changes. The next `sampleInto` sends the new segment at the probe.
 */
export function probeToLater(
  s: TcpSender,
  at: number,
  release: number,
  input: { readonly dataLost: () => boolean; readonly ackLost: () => boolean },
  out: Transmissions,
): number | undefined {
  const side = s.side;
  if (!side.linux || side.probeLast !== true || !(at < s.ackAt) || s.headCount < 1) return undefined;
  const { latencyMs } = s;
  // Open: the Open state, or (`bbrCwnd`) the window BBR opened in the Loss state at the ACK of
  // the segment ahead, the new data going at that ACK or after it.
  const open =
    release === at
      ? s.backoffAt(at) === 0 || cwndOpenAt(s, at)
      : release === s.aheadAckAt && cwndOpenAt(s, release);
  if (side.sackRack === true && open && s.headArrival > release + latencyMs) {
    // The new segment's first transmission: in out of order, ACKed at once with its SACK.
    const yIn = !input.dataLost();
    const yAck = yIn && !input.ackLost();
    inject(s, 0, release, yIn, yAck);
    let keep = 0;
    while (keep < s.headCount && (s.headTimes[keep] as number) <= release) keep++;
    const r = release + 2 * latencyMs;
    const nextOwn = keep < s.headCount ? (s.headTimes[keep] as number) : Number.POSITIVE_INFINITY;
    if (yAck && keep > 0 && r < nextOwn && r < s.ackAt) {
      s.headProbeAt = Number.POSITIVE_INFINITY;
      return redraw(s, keep, r, s.headLevels[keep - 1] as number, input, out);
    }
  }
  const p = s.headProbeAt;
  if (!(at < p && release <= p && p < s.ackAt && s.headCount >= 2 && s.headTimes[1] === p)) return undefined;
  const probeAt = p;
  let rack = false;
  if (side.probeRack === true && s.headArrived[0] !== true) {
    // The probe arrives out of order (the head missing) and is ACKed at once with its SACK; on it
    // RACK marks the head lost and sends it again, 2·latency after the probe.
    const pIn = !input.dataLost();
    const pAck = pIn && !input.ackLost();
    inject(s, 1, probeAt, pIn, pAck);
    rack = pAck;
  }
  s.laterProbeAt = probeAt;
  s.headProbeAt = Number.POSITIVE_INFINITY;
  return rack
    ? redraw(s, 1, probeAt + 2 * latencyMs, 0, input, out)
    : redraw(s, 1, probeAt + s.wait(0), 1, input, out);
}

/** The fate of the new segment's transmission at `t` (slot 0: its first; 1: the probe), drawn ahead. */
function inject(s: TcpSender, slot: number, t: number, got: boolean, ack: boolean): void {
  s.injectAt[slot] = t;
  s.injectIn[slot] = got;
  s.injectAck[slot] = ack;
}

/**
 * The head's transmissions from index `keep` on drawn again, the first at `t` with backoff `b`
 * (the wait after it `wait(b)`, then doubling): its schedule, ACK and pending RTT sample.
 */
function redraw(
  s: TcpSender,
  keep: number,
  t0: number,
  b0: number,
  input: { readonly dataLost: () => boolean; readonly ackLost: () => boolean },
  out: Transmissions,
): number {
  const { latencyMs, policy } = s;
  const oldCount = s.headCount;
  const oldAck = s.headAcked ? s.ackAt : Number.NaN;
  let oldIn = s.headAcked ? Number.POSITIVE_INFINITY : s.ackAt;
  for (let i = 0; i < oldCount; i++) {
    if (s.headArrived[i] === true) {
      oldIn = s.headTimes[i] as number;
      break;
    }
  }
  const times = out.times;
  restartTransmissions(out, 0, s.headTimes[0] as number);
  for (let i = 0; i < keep; i++) {
    times[i] = s.headTimes[i] as number;
    if (s.headArrived[i] === true) firstArrival(out, i, times[i] as number);
  }
  let n = keep;
  let b = b0;
  let t = t0;
  for (let k = keep; ; k++) {
    times[n] = t;
    s.headTimes[n] = t;
    s.headLevels[n] = b;
    const got = !input.dataLost();
    s.headArrived[n] = got;
    n++;
    let ackBack = Number.POSITIVE_INFINITY;
    if (got) {
      const first = firstArrival(out, k, t);
      const hold = first && !s.headAnswered ? s.side.delayedAckMs : 0;
      if (!input.ackLost()) ackBack = t + 2 * latencyMs + hold;
    }
    const next = t + s.wait(b);
    if (ackBack <= next) {
      out.ackAt = ackBack;
      break;
    }
    if (k >= policy.retries) {
      out.giveUpAt = next;
      break;
    }
    b++;
    t = next;
  }
  times.length = n;
  out.retransmissions = n - oldCount;
  s.headCount = n;
  s.headArrival = out.ok ? out.attemptAt + latencyMs : Number.POSITIVE_INFINITY;
  s.headAcked = out.ackAt !== Number.POSITIVE_INFINITY;
  s.ackAt = s.headAcked ? out.ackAt : out.giveUpAt;
  // The head's pending RTT sample goes with its ACK.
  let kept = 0;
  for (let i = 0; i < s.rttCount; i++) {
    if (s.rttWhen[i] === oldAck) continue;
    s.rttWhen[kept] = s.rttWhen[i] as number;
    s.rttSamples[kept] = s.rttSamples[i] as number;
    kept++;
  }
  s.rttCount = kept;
  if (s.headAcked) {
    s.rttWhen[s.rttCount] = out.ackAt;
    s.rttSamples[s.rttCount] = out.ackAt - (times[n - 1] as number);
    s.rttCount++;
  }
  return oldIn;
}

/**
 * `bbrCwnd`: whether new data can go at `t` in the Loss state (Nagle off) — the ACK of the segment
 * ahead of the head (`aheadAckAt`, which delivers something) came by `t`, and no RTO of the head
 * since set cwnd back to 1 (`tcp_enter_loss`). `bbr_set_cwnd`: cwnd = max(cwnd, 4) on that ACK.
 */
export function cwndOpenAt(s: TcpSender, t: number): boolean {
  const open = s.aheadAckAt;
  if (s.side.bbrCwnd !== true || s.side.nagle) return false;
  if (!(open <= t && open < s.ackAt && t < s.cwndCloseAt)) return false;
  return headAfter(s, s.headCount, open, true) > t;
}

/**
 * `bbrCwnd`: the window's opening to keep when a segment is placed at `at` (before the head's record
 * is replaced): the ACK still to come, or (`bbrCwndKept`) the one that opened the window, open at
 * `at` — the new segment's SACK, or its ACK, delivers too, and only an RTO closes it; the head's
 * next RTO after `at` is then when it closes (`cwndCloseAt`). Infinity: none.
 */
export function keptOpen(s: TcpSender, at: number): number {
  const open = s.aheadAckAt;
  if (open > at || s.side.bbrCwndKept !== true || !cwndOpenAt(s, at)) {
    s.cwndCloseAt = Number.POSITIVE_INFINITY;
    return open > at ? open : Number.POSITIVE_INFINITY;
  }
  s.cwndCloseAt = Math.min(s.cwndCloseAt, headAfter(s, s.headCount, at, true));
  return open;
}

/**
 * The first of the head's first `count` transmissions after `t` that an RTO sent (its backoff
 * rose), or (`rto` false) that a probe or an ACK sent, Infinity when there is none.
 */
export function headAfter(s: TcpSender, count: number, t: number, rto: boolean): number {
  const times = s.headTimes;
  const levels = s.headLevels;
  for (let i = 1; i < count; i++) {
    const h = times[i] as number;
    if (h > t && (levels[i] as number) > (levels[i - 1] as number) === rto) return h;
  }
  return Number.POSITIVE_INFINITY;
}

/**
 * The one RTT sample of the head's ACK that also covers a later segment, whose transmission at
 * `tY` got in last before that ACK left (`tcp_clean_rtx_queue` takes one per ACK). Nothing it
 * covers retransmitted: `first_ackt`, the head's send, as the head's pending sample has it. The
 * head retransmitted (Karn's rule): the timestamp echoed, TS.Recent (RFC 7323 §4.3), which the
 * head's duplicate does not update once the receiver has acknowledged the later segment — its end
 * is before `rcv_wup`, `tcp_sequence` fails and `tcp_send_dupack` echoes the older value: `tY`'s
 * when it came more than the delayed-ACK time after the head (`tcp_replace_ts_recent` took it),
 * else the head's transmission that first got in.
 */
export function headAckSample(s: TcpSender, headAck: number, count: number, tY: number): void {
  const lat = s.latencyMs;
  const leave = headAck - lat;
  let n = 0;
  for (let i = 0; i < count && (s.headTimes[i] as number) + lat <= leave; i++) n++;
  const headIn = s.headArrival;
  const yIn = tY + lat;
  // Not retransmitted; or the later one came out of order (the head's retransmission filled the
  // hole and updated TS.Recent); or the receiver's ACK after it had not left when the head's came.
  if (n <= 1 || headIn === Number.POSITIVE_INFINITY || yIn < headIn) return;
  if (yIn + s.side.delayedAckMs > leave) return;
  const echo = yIn - headIn > s.side.delayedAckMs ? tY : headIn - lat;
  for (let i = s.rttCount - 1; i >= 0; i--) {
    if (s.rttWhen[i] === headAck) {
      s.rttSamples[i] = headAck - echo;
      return;
    }
  }
}
