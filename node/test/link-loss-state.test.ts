/**
 * The two Linux rules a Linux node's connection adds to the sender (node/tcp-sender.ts), each on
 * scripted losses beside the same script without it: after an RTO the head goes alone, a segment
 * behind it goes again at the head's ACK and new data waits for that ACK (`rtoHeadAlone`), and the
 * ACK carried by the other direction's data is an RTT sample (`dataAckRtt`).
 */
import { describe, expect, it } from "vitest";
import type { RetryPolicy } from "../retransmit.js";
import { TcpSender, type TcpSide } from "../tcp-sender.js";

const LINUX: RetryPolicy = { firstRtoMs: 200, capMs: 120_000, retries: 15 };
const PLAIN: TcpSide = { linux: true, nagle: false, delayedAckMs: 0 };

/** A loss decision per call, in turn; true = lost. Running out of script fails the test. */
function script(xs: boolean[]): () => boolean {
  let i = 0;
  return () => {
    if (i >= xs.length) throw new Error(`loss script of ${xs.length} ran out`);
    return xs[i++] as boolean;
  };
}

/**
 * Segment 1 sent at 0 (latency 10) arrives at once; the ACKs of its transmissions at 0, 200 (the
 * probe) and 400 (the first RTO) are lost, that of 800 (the second RTO) is back at 820.
 */
function headInLoss(side: TcpSide): TcpSender {
  const sender = new TcpSender(LINUX, side, 10);
  const one = sender.sample({
    from: 0,
    at: 0,
    answered: true,
    dataLost: script([false, false, false, false]),
    ackLost: script([true, true, true, false]),
  });
  expect(one.times).toEqual([0, 200, 400, 800]);
  expect(one.ackAt).toBe(820);
  return sender;
}

/** A segment sent at `at` whose transmissions are lost per `lost` (its ACKs all get back). */
function behind(sender: TcpSender, at: number, lost: boolean[]) {
  return sender.sample({ from: 0, at, answered: true, dataLost: script(lost), ackLost: script([false]) });
}

describe("after an RTO the head goes alone (Linux tcp_retransmit_timer, tcp_enter_loss)", () => {
  const alone: TcpSide = { ...PLAIN, rtoHeadAlone: true };

  it("a segment sent in the Loss state goes again at the head's ACK, not with its next RTO", () => {
    // Sent at 500, after the head's first RTO (400); its first transmission is lost.
    expect(behind(headInLoss(alone), 500, [true, false]).times).toEqual([500, 820]);
    // Without the rule it goes with the head's RTO at 800.
    expect(behind(headInLoss(PLAIN), 500, [true, false]).times).toEqual([500, 800]);
  });

  it("the head's probe carries a segment sent before it; the head's RTO does not", () => {
    // Sent at 100; lost at 100 and again with the head's probe at 200.
    expect(behind(headInLoss(alone), 100, [true, true, false]).times).toEqual([100, 200, 820]);
    expect(behind(headInLoss(PLAIN), 100, [true, true, false]).times).toEqual([100, 200, 400]);
  });

  it("new data handed over in the Loss state waits for the head's ACK (cwnd 1, tcp_enter_loss)", () => {
    const sender = headInLoss(alone);
    // Before the head's first RTO (400) the probe at 200 left the connection open: it goes at once.
    expect(sender.releaseAt(100)).toBe(100);
    expect(sender.releaseAt(300)).toBe(300);
    // After it, in the Loss state: at the head's ACK (820); once that is in, at once.
    expect(sender.releaseAt(500)).toBe(820);
    expect(sender.releaseAt(810)).toBe(820);
    expect(sender.releaseAt(900)).toBe(900);
    // Without the rule (and without Nagle) it goes when handed over.
    expect(headInLoss(PLAIN).releaseAt(500)).toBe(500);
  });

  it("after the head's ACK its own timer is one un-backed-off RTO", () => {
    // Lost at 500 and at the ACK (820): its own RTO fires 200 later.
    expect(behind(headInLoss(alone), 500, [true, true, false]).times).toEqual([500, 820, 1020]);
  });
});

describe("the ACK carried by data is an RTT sample (Linux tcp_clean_rtx_queue, tcp_ack_update_rtt)", () => {
  it("samples from the latest transmission before the carrying segment left to its arrival", () => {
    const sender = headInLoss({ ...PLAIN, dataAckRtt: true });
    // The receiver's data leaves at 440 carrying the ACK (the latest transmission in: 400) and
    // arrives at 450: sample 50, SRTT 50, RTTVAR 25, RTO = 50 + max(100, 200) = 250.
    expect(sender.ackedAt(450, 440)).toBe(true);
    expect(sender.rto).toBe(250);
    // The pure ACK back at 820 is a duplicate now: no sample from it.
    expect(behind(sender, 1000, [true, false]).times).toEqual([1000, 1250]);
  });

  it("without the rule only the pure ACK samples (820 − 800 = 20: RTO 220)", () => {
    const sender = headInLoss(PLAIN);
    expect(sender.ackedAt(450, 440)).toBe(true);
    expect(sender.rto).toBe(200);
    expect(behind(sender, 1000, [true, false]).times).toEqual([1000, 1220]);
  });
});
