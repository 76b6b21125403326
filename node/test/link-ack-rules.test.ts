/**
 * Three Linux rules of a Linux node's connection (node/tcp-sender.ts, node/link-path.ts), each on
 * scripted losses beside the same script without it: the ACK carried by data samples from the
 * timestamp it echoes (`tsEcho`), the head's ACK covers a later segment already in with the one RTT
 * sample Linux takes (`headAckCovers`), and the partial ACK sends the segment waiting in the Loss
 * state at once (`partialAck`).
 */
import { describe, expect, it } from "vitest";
import { LinkPath, type PathStats } from "../link.js";
import { LossProcess } from "../loss.js";
import type { RetryPolicy } from "../retransmit.js";
import { FakeScheduler } from "../scheduler.js";
import { TcpSender, type TcpSide } from "../tcp-sender.js";

const LINUX: RetryPolicy = { firstRtoMs: 200, capMs: 120_000, retries: 15 };
const BASE: TcpSide = { linux: true, nagle: false, delayedAckMs: 0, rtoHeadAlone: true, dataAckRtt: true };

/** A loss decision per call, in turn; true = lost. Running out of script fails the test. */
function script(xs: boolean[]): () => boolean {
  let i = 0;
  return () => {
    if (i >= xs.length) throw new Error(`loss script of ${xs.length} ran out`);
    return xs[i++] as boolean;
  };
}

/** One segment at `at` (latency 10): its transmissions lost per `data`, their ACKs per `acks`. */
function seg(sender: TcpSender, at: number, data: boolean[], acks: boolean[]) {
  return sender.sample({ from: 0, at, answered: true, dataLost: script(data), ackLost: script(acks) });
}

describe("the ACK carried by data samples from the timestamp it echoes (RFC 7323 §4.3)", () => {
  // The head goes at 0 (in), 200 (the probe, lost), 400 (the RTO, lost) and 800 (in, ACK at 820);
  // the receiver's data leaves at 440 carrying the ACK and arrives at 450.
  const head = (side: TcpSide) => {
    const sender = new TcpSender(LINUX, side, 10);
    expect(seg(sender, 0, [false, true, true, false], [true, false]).times).toEqual([0, 200, 400, 800]);
    expect(sender.ackedAt(450, 440)).toBe(true);
    return sender;
  };

  it("from the latest transmission that reached the receiver (0): sample 450, RTO 1,350", () => {
    expect(head({ ...BASE, tsEcho: true }).rto).toBe(1350);
  });

  it("without the rule from the latest sent (400, lost): sample 50, RTO 250", () => {
    expect(head(BASE).rto).toBe(250);
  });
});

describe("the head's ACK covers a later segment already in (RFC 9293 §3.4; tcp_clean_rtx_queue)", () => {
  // The head: in at 10, its ACKs lost until that of its RTO retransmission at 800 (back at 820).
  const head = (side: TcpSide) => {
    const sender = new TcpSender(LINUX, side, 10);
    const one = seg(sender, 0, [false, false, false, false], [true, true, true, false]);
    expect(one.times).toEqual([0, 200, 400, 800]);
    expect(one.ackAt).toBe(820);
    return sender;
  };

  it("a segment in before the head's ACK left is acknowledged by it, not sent again", () => {
    const sender = head({ ...BASE, headAckCovers: true });
    // Sent at 100 (in at 110), again with the head's probe at 200; its own ACKs lost.
    const two = seg(sender, 100, [false, false], [true, true]);
    expect(two.times).toEqual([100, 200]);
    expect(two.ackAt).toBe(820);
    // One ACK, one sample: the timestamp echoed. The later segment's transmission at 200 (in at
    // 210, the receiver had acknowledged up to its end) set TS.Recent; the head's duplicates (their
    // end before what the receiver acknowledged, tcp_sequence) did not: 820 − 200 = 620, RTO 620 +
    // 1,240.
    seg(sender, 1000, [false], [false]);
    expect(sender.rto).toBe(1860);
  });

  it("without the rule it goes again at the head's ACK (820), and the samples are 20 and 20", () => {
    const sender = head(BASE);
    const two = seg(sender, 100, [false, false, false], [true, true, false]);
    expect(two.times).toEqual([100, 200, 820]);
    expect(two.ackAt).toBe(840);
    seg(sender, 1000, [false], [false]);
    expect(sender.rto).toBe(220);
  });
});

describe("the partial ACK in the Loss state (tcp_process_loss, tcp_xmit_retransmit_queue)", () => {
  /** A LossProcess whose draws follow a script (bernoulli 0.5 over scripted uniforms). */
  const scripted = (xs: boolean[]) => {
    const next = script(xs);
    return new LossProcess({ kind: "bernoulli", p: 0.5 }, () => (next() ? 0.1 : 0.9));
  };
  const stats = (): PathStats => ({
    segments: 0,
    bytes: 0,
    retransmissions: 0,
    timeouts: 0,
    windowStalls: 0,
  });

  // Latency 1. Segment 1 at 0: in at 1, its ACKs lost until that of the RTO's at 800 (back at 802).
  // Segment 2 at 100: lost, and with the head's probe at 200; after the head's RTO (400) it waits for
  // the head's ACK (802). The other direction's data, sent at 449, arrives at 450 carrying the ACK
  // of segment 1 (everything before segment 2).
  const run = (side: TcpSide, data: boolean[], acks: boolean[]) => {
    const sched = new FakeScheduler();
    const delivered: { at: number; tag: number }[] = [];
    const p = new LinkPath(
      sched,
      LINUX,
      scripted(data),
      1,
      {
        deliver: (b, at) => {
          delivered.push({ at, tag: b[1] ?? -1 });
          return true;
        },
        timedOut: () => {},
        upAt: () => true,
      },
      stats(),
      false,
      side,
      scripted(acks),
    );
    p.send(Buffer.from([0x32, 1]), 0);
    sched.runUntil(100);
    p.send(Buffer.from([0x32, 2]), 100);
    sched.runUntil(450);
    p.reverseData(449, 450);
    sched.runUntil(3000);
    return delivered;
  };

  it("segment 2 goes again at the partial ACK (450), in at 451", () => {
    const got = run(
      { ...BASE, partialAck: true },
      [false, false, false, false, true, true, false, false],
      [true, true, true, false, false, false],
    );
    expect(got).toEqual([
      { at: 1, tag: 1 },
      { at: 451, tag: 2 },
    ]);
  });

  it("without the rule it waits for the head's own ACK (802), in at 803", () => {
    const got = run(BASE, [false, false, false, false, true, true, false], [true, true, true, false, false]);
    expect(got).toEqual([
      { at: 1, tag: 1 },
      { at: 803, tag: 2 },
    ]);
  });
});
