/**
 * The link's handshake on a lossy path: Linux's SYN schedule (1 s doubling, tcp_syn_retries), the
 * W5100's RTR pacing without one, and the attempt ending at the last SYN's wait or the connect
 * timeout, whichever is first.
 */
import { describe, expect, it } from "vitest";
import { Link } from "../link.js";
import type { RetryPolicy } from "../retransmit.js";
import { FakeScheduler } from "../scheduler.js";

const LINUX: RetryPolicy = { firstRtoMs: 200, capMs: 120_000, retries: 15 };

describe("SYN schedule", () => {
  const link = (p: number, synPolicy?: RetryPolicy, connectTimeoutMs = 127_000) =>
    new Link({
      sched: new FakeScheduler(),
      nodePolicy: LINUX,
      brokerPolicy: LINUX,
      latencyMs: 1,
      connectTimeoutMs,
      randUp: () => (p === 1 ? 0 : 0.99),
      randDown: () => 0.99,
      loss: { kind: "bernoulli", p },
      synPolicy,
    });

  it("Linux: SYNs at 0, 1, 3, 7, 15, 31 and 63 s (tcp_syn_retries 6), giving up at 127 s", () => {
    const l = link(1, { firstRtoMs: 1000, capMs: 120_000, retries: 6 });
    expect(l.handshake(0)).toEqual({ ok: false, at: 127_000 });
    expect(l.stats.synRetransmissions).toBe(7);
  });

  it("without a SYN policy the node's data RTO paces the SYNs (the W5100's RTR)", () => {
    const l = link(1);
    l.handshake(0);
    // 0, 0.2, 0.6, 1.4, ... 102.2 s: every SYN before 127 s.
    expect(l.stats.synRetransmissions).toBe(10);
  });

  it("gives up after the last SYN's wait when that comes before the connect timeout", () => {
    const l = link(1, { firstRtoMs: 1000, capMs: 120_000, retries: 2 }, 600_000);
    // SYNs at 0, 1 and 3 s; the last waits 4 s.
    expect(l.handshake(0)).toEqual({ ok: false, at: 7000 });
    expect(l.stats.synRetransmissions).toBe(3);
  });
});
