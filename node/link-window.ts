/**
 * Linux's congestion window on one direction of a connection, counted in segments in flight, as
 * far as the link model's few small segments meet it (used by node/tcp-sender.ts when the side has
 * `window`): how many segments may be in flight, and when a segment handed over may go.
 *
 * - The window starts at TCP_INIT_CWND 10 (RFC 6928, include/net/tcp.h).
 * - An RTO puts the connection in the Loss state (RFC 5681 §3.1; Linux `tcp_enter_loss`): ssthresh
 *   = max(0.7·cwnd, 2) (CUBIC's `bictcp_recalc_ssthresh`, β = 717/1024), set once per Loss episode,
 *   cwnd = 1; every segment outstanding then is lost and the one retransmission fills the window,
 *   so nothing new goes until the ACK that ends the episode (all data outstanding at the RTO, Linux
 *   `high_seq`). Data handed over meanwhile waits and joins one segment (the kernel appends it to
 *   the unsent tail, `tcp_sendmsg`).
 * - Each ACK of a segment grows the window by one below ssthresh (slow start, `tcp_slow_start`) and
 *   by 1/cwnd above it (`tcp_cong_avoid_ai`), only while the window limits the sender: cwnd < 2 ×
 *   the segments that were in flight (`tcp_is_cwnd_limited`), so a sparse sender keeps a small one.
 * - A tail loss probe that repaired a loss (its ACK, the original lost) is a congestion signal
 *   (RFC 8985 §7.4.2): Linux `tcp_process_tlp_ack` starts and ends a cwnd reduction at once
 *   (`tcp_init_cwnd_reduction`, `tcp_end_cwnd_reduction`): cwnd = ssthresh = max(0.7·cwnd, 2).
 *   Proportional Rate Reduction (RFC 6937, `tcp_cwnd_reduction`) paces sending within a recovery
 *   that a SACK or RACK detected; the model detects no loss that way, so its per-ACK pacing is not
 *   reached and not modeled.
 */

/** include/net/tcp.h TCP_INIT_CWND. */
export const INIT_CWND = 10;
/** net/ipv4/tcp_cubic.c beta = 717 (of BICTCP_BETA_SCALE 1024). */
const CUBIC_BETA = 717 / 1024;

type Event =
  | { readonly at: number; readonly kind: "ack"; readonly flight: number }
  | { readonly at: number; readonly kind: "rto"; readonly until: number }
  | { readonly at: number; readonly kind: "tlp-repair" };

export class LinuxWindow {
  cwnd = INIT_CWND;
  ssthresh = Number.POSITIVE_INFINITY;
  /** The Loss state lasts until the ACK of everything outstanding at its RTO. */
  lossUntil = Number.NEGATIVE_INFINITY;
  /** Segments sent and not yet acked (or given up): [first sent, done]. */
  private flight: [number, number][] = [];
  /** Future events, applied in time order when the sender reaches them. */
  private events: Event[] = [];
  private now = Number.NEGATIVE_INFINITY;

  /** Segments in flight at `at`. */
  inFlight(at: number): number {
    let n = 0;
    for (const [from, done] of this.flight) if (from <= at && at < done) n++;
    return n;
  }

  /** Applies every event up to `at`, in time order. */
  advance(at: number): void {
    if (at < this.now) return;
    this.now = at;
    if (this.events.length === 0) return;
    this.events.sort((a, b) => a.at - b.at);
    let i = 0;
    for (; i < this.events.length && (this.events[i] as Event).at <= at; i++)
      this.apply(this.events[i] as Event);
    this.events.splice(0, i);
    this.flight = this.flight.filter(([, done]) => done > at);
  }

  private apply(e: Event): void {
    if (e.kind === "rto") {
      if (e.at >= this.lossUntil) this.ssthresh = Math.max(Math.floor(this.cwnd * CUBIC_BETA), 2);
      this.cwnd = 1;
      let until = e.until;
      for (const [from, done] of this.flight) if (from <= e.at && done > until) until = done;
      this.lossUntil = Math.max(this.lossUntil, until);
    } else if (e.kind === "tlp-repair") {
      this.ssthresh = Math.max(Math.floor(this.cwnd * CUBIC_BETA), 2);
      this.cwnd = Math.min(this.cwnd, this.ssthresh);
    } else if (this.cwnd < 2 * e.flight) {
      this.cwnd = this.cwnd < this.ssthresh ? this.cwnd + 1 : this.cwnd + 1 / this.cwnd;
    }
  }

  /**
   * When a segment handed over at `at` may go: at once when the window has room, else at the ACK
   * that ends the Loss state, or the next ACK of a segment in flight, whichever gives room first.
   */
  releaseAt(at: number): number {
    this.advance(at);
    // Look ahead on a copy, so the state itself only ever moves to the present.
    const w = this.copy();
    let t = at;
    for (let guard = 0; guard < 64; guard++) {
      w.advance(t);
      if (t < w.lossUntil) {
        // The connection gives up before the episode ends: nothing to wait for.
        if (w.lossUntil === Number.POSITIVE_INFINITY) return t;
        t = w.lossUntil;
        continue;
      }
      if (w.inFlight(t) < Math.floor(w.cwnd)) return t;
      const next = w.nextAck(t);
      if (next === Number.POSITIVE_INFINITY) return t;
      t = next;
    }
    return t;
  }

  private copy(): LinuxWindow {
    const w = new LinuxWindow();
    w.cwnd = this.cwnd;
    w.ssthresh = this.ssthresh;
    w.lossUntil = this.lossUntil;
    w.flight = this.flight.map(([a, b]) => [a, b]);
    w.events = [...this.events];
    w.now = this.now;
    return w;
  }

  /**
   * Everything sent by `at` is acknowledged at `at` (an ACK carried by the reverse direction's
   * data): the Loss state ends, what was in flight is acked then, and the timers and ACKs sampled
   * for later are void. A segment recorded as first sent after `at` (held, to be sampled again)
   * is forgotten.
   */
  ackedAll(at: number): void {
    this.advance(at);
    const acks = this.events.filter((e) => e.kind === "ack" && e.at > at) as { flight: number }[];
    this.events = acks.map((e) => ({ at, kind: "ack", flight: e.flight }) as Event);
    this.flight = this.flight
      .filter(([from]) => from <= at)
      .map(([from, done]) => [from, Math.min(done, at)]);
    if (this.lossUntil > at) this.lossUntil = at;
    this.advance(at);
  }

  private nextAck(after: number): number {
    let next = Number.POSITIVE_INFINITY;
    for (const e of this.events) if (e.kind === "ack" && e.at > after && e.at < next) next = e.at;
    for (const [, done] of this.flight) if (done > after && done < next) next = done;
    return next;
  }

  /**
   * Records a segment first sent at `sentAt`: its RTO expiries (timer-driven retransmissions, not
   * the tail loss probe), whether its probe repaired a loss, and its ACK (`done`: ACK or give-up).
   */
  record(sentAt: number, done: number, acked: boolean, rtoAt: readonly number[], tlpRepairAt?: number): void {
    const flight = this.inFlight(sentAt) + 1;
    this.flight.push([sentAt, done]);
    for (const r of rtoAt) this.events.push({ at: r, kind: "rto", until: done });
    if (tlpRepairAt !== undefined) this.events.push({ at: tlpRepairAt, kind: "tlp-repair" });
    if (acked) this.events.push({ at: done, kind: "ack", flight });
  }
}
