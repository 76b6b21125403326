/**
 * TCP retransmission of one segment: the retry policy, the doubling, capped retransmission timeout
 * and the analytic distribution a fixed (W5100) sender's samples must follow (docs/device-model.md
 * §The link); node/tcp-sender.ts samples the transmissions.
 */

export interface RetryPolicy {
  /** Wait after the first transmission (W5100: RTR; Linux: the RTO). */
  readonly firstRtoMs: number;
  /** The wait doubles per attempt up to this. */
  readonly capMs: number;
  /** Retransmissions before the socket times out: RCR+1 transmissions in all. */
  readonly retries: number;
}

/** Wait after transmission number `k` (0-based) before the next one, or before giving up. */
export function rtoAfter(policy: RetryPolicy, k: number): number {
  return Math.min(policy.firstRtoMs * 2 ** k, policy.capMs);
}

/** Delay before the transmission number `k` (0-based) goes out: the sum of the waits before it. */
export function delayBefore(policy: RetryPolicy, k: number): number {
  let d = 0;
  for (let i = 0; i < k; i++) d += rtoAfter(policy, i);
  return d;
}

/** When a socket gives up after every transmission was lost: after the last wait too. */
export function timeoutAfter(policy: RetryPolicy): number {
  return delayBefore(policy, policy.retries + 1);
}

export interface RetransmissionOutcome {
  /** Retransmissions before delivery (k), or -1 for a timeout. */
  readonly k: number;
  readonly probability: number;
  /** Added delay: the sum of the k waits, or the time until the timeout. */
  readonly delayMs: number;
}

/** P(k retransmissions) = p^k (1-p) for k ≤ retries with delay Σ min(rto·2^i, cap); timeout p^(retries+1). */
export function retransmissionDistribution(p: number, policy: RetryPolicy): RetransmissionOutcome[] {
  const out: RetransmissionOutcome[] = [];
  for (let k = 0; k <= policy.retries; k++) {
    out.push({ k, probability: p ** k * (1 - p), delayMs: delayBefore(policy, k) });
  }
  out.push({ k: -1, probability: p ** (policy.retries + 1), delayMs: timeoutAfter(policy) });
  return out;
}
