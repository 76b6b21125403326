/**
 * BBR's cwnd in the Loss state (`bbrCwnd`, node/tcp-sender.ts and node/tcp-head.ts): the ACK of
 * the segment ahead of the head delivers something, so BBR raises cwnd to at least 4
 * (`bbr_set_cwnd`) and new data handed over in the Loss state goes at that ACK, not at the ACK of
 * everything sent; its SACK then has RACK send the head again. Each case beside the same script
 * without the rule.
 */
import { describe, expect, it } from "vitest";
import type { RetryPolicy } from "../retransmit.js";
import { probeToLater } from "../tcp-head.js";
import { TcpSender, type TcpSide } from "../tcp-sender.js";
import { blankTransmissions } from "../tcp-side.js";

const LINUX: RetryPolicy = { firstRtoMs: 200, capMs: 120_000, retries: 15 };
const LOSS: TcpSide = {
  linux: true,
  nagle: false,
  delayedAckMs: 0,
  rtoHeadAlone: true,
  probeLast: true,
  sackRack: true,
};
const BBR: TcpSide = { ...LOSS, bbrCwnd: true };

/** A loss decision per call, in turn; true = lost. Running out of script fails the test. */
function script(xs: boolean[]): () => boolean {
  let i = 0;
  return () => {
    if (i >= xs.length) throw new Error(`loss script of ${xs.length} ran out`);
    return xs[i++] as boolean;
  };
}

/**
 * Latency 10. The head, sent at 0, arrives at once; the ACKs of its transmissions at 0, 200 (the
 * probe) and 400 (the first RTO) are lost, that of 800 is back at 820: the Loss state from 400.
 * A segment sent behind it at 500 is lost there and at the head's ACK (820), and gets in at its
 * own timer (1020), its ACK back at 1040.
 */
function twoInLoss(side: TcpSide): TcpSender {
  const sender = new TcpSender(LINUX, side, 10);
  const head = sender.sample({
    from: 0,
    at: 0,
    answered: true,
    dataLost: script([false, false, false, false]),
    ackLost: script([true, true, true, false]),
  });
  expect(head.ackAt).toBe(820);
  const behind = sender.sample({
    from: 0,
    at: 500,
    answered: true,
    dataLost: script([true, true, false]),
    ackLost: script([false]),
  });
  expect(behind.times).toEqual([500, 820, 1020]);
  expect(behind.ackAt).toBe(1040);
  return sender;
}

describe("BBR's cwnd in the Loss state (Linux bbr_set_cwnd: at least 4 after an ACK that delivers)", () => {
  it("new data handed over in the Loss state goes at the ACK of the segment ahead", () => {
    const sender = twoInLoss(BBR);
    expect(sender.releaseAt(600)).toBe(820);
    // After that ACK the window is open: at once.
    expect(sender.releaseAt(900)).toBe(900);
    // Without the rule, cwnd 1 holds it until the ACK of everything sent.
    expect(twoInLoss(LOSS).releaseAt(600)).toBe(1040);
  });

  it("Nagle still holds it behind the unacknowledged segment", () => {
    expect(twoInLoss({ ...BBR, nagle: true }).releaseAt(600)).toBe(1040);
  });

  it("its SACK has RACK send the missing segment again, not at that segment's own timer", () => {
    const sender = twoInLoss(BBR);
    const out = blankTransmissions();
    // The new data goes at 820, gets in and its SACK is back at 840: the segment ahead of it goes
    // again then (in at 850, ACK back at 860) instead of at 1020.
    const input = { dataLost: script([false, false]), ackLost: script([false, false]) };
    expect(probeToLater(sender, 600, 820, input, out)).toBe(1020);
    expect(out.times).toEqual([500, 820, 840]);
    expect(sender.ackAt).toBe(860);
    // Without the rule nothing changes: the new data waits for 1040.
    const plain = twoInLoss(LOSS);
    const none = { dataLost: script([]), ackLost: script([]) };
    expect(probeToLater(plain, 600, plain.releaseAt(600), none, blankTransmissions())).toBeUndefined();
    expect(plain.ackAt).toBe(1040);
  });

  it("an RTO after that ACK closes the window again (tcp_enter_loss: cwnd 1)", () => {
    const sender = new TcpSender(LINUX, BBR, 10);
    sender.sample({
      from: 0,
      at: 0,
      answered: true,
      dataLost: script([false, false, false, false]),
      ackLost: script([true, true, true, false]),
    });
    // Behind it at 500: lost at 500, at the head's ACK (820), at its RTO (1020); in at 1420.
    const behind = sender.sample({
      from: 0,
      at: 500,
      answered: true,
      dataLost: script([true, true, true, false]),
      ackLost: script([false]),
    });
    expect(behind.times).toEqual([500, 820, 1020, 1420]);
    // Handed over at 900 the window BBR opened at 820 is open; at 1100, after the RTO at 1020, not.
    expect(sender.releaseAt(900)).toBe(900);
    expect(sender.releaseAt(1100)).toBe(behind.ackAt);
  });
});

/** xorshift32: the loss draws of the kept-window case, the same for both senders. */
function draws(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

/**
 * Six segments handed over 0–906 ms apart on a 40 % lossy path, placed as node/link-path.ts places
 * them (the release, the probe or RACK, the sampling); the release of each is returned.
 */
function sixSegments(side: TcpSide): { release: number[]; times: number[][] } {
  const r = draws(2);
  const sender = new TcpSender(LINUX, side, 10);
  const lost = () => r() < 0.4;
  const input = { from: 0, answered: true, dataLost: lost, ackLost: lost };
  const release: number[] = [];
  const times: number[][] = [];
  let at = 0;
  for (let i = 0; i < 6; i++) {
    const go = sender.releaseAt(at);
    probeToLater(sender, at, go, input, blankTransmissions());
    release.push(go);
    times.push([...sender.sample({ ...input, at: go }).times]);
    at += Math.floor(r() * 300);
  }
  return { release, times };
}

describe("the window BBR opened stays open until an RTO (bbrCwndKept: a later ACK or SACK delivers too)", () => {
  const KEPT: TcpSide = { ...BBR, headAckCovers: true, bbrCwndKept: true };
  it("data handed over after the first segment sent in that window goes at once, not at the next ACK", () => {
    const kept = sixSegments(KEPT);
    const plain = sixSegments({ ...KEPT, bbrCwndKept: false });
    // The same first five: the fourth (410) in the Loss state, the fifth handed over at 696 and sent
    // at 820, the ACK of the segment ahead, which opened the window (Z).
    expect(kept.release.slice(0, 5)).toEqual([0, 97, 233, 410, 820]);
    expect(plain.release.slice(0, 5)).toEqual(kept.release.slice(0, 5));
    expect(kept.times[3]).toEqual([410, 630, 820, 1500, 1720, 2160, 3040]);
    // The sixth, handed over at 906: no RTO since 820 (the fourth's next is 1720), cwnd still 4.
    expect(kept.release[5]).toBe(906);
    // Without the rule the fifth's going closed the window until its own segment ahead's ACK.
    expect(plain.release[5]).toBe(3060);
  });
});
