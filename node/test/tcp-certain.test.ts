/**
 * The lossless shortcut (node/tcp-certain.ts) gives the answer and the sender state the sampling
 * loop gives: two senders fed the same segments, one told nothing can be lost and one not (its
 * loss draws all "not lost"), compared after every segment and every ACK carried by data.
 */
import seedrandom from "seedrandom";
import { describe, expect, it } from "vitest";
import { LossProcess } from "../loss.js";
import type { RetryPolicy } from "../retransmit.js";
import { TcpSender, type TcpSide } from "../tcp-sender.js";
import { blankTransmissions, type SampleRequest } from "../tcp-side.js";

const W5100: RetryPolicy = { firstRtoMs: 200, capMs: 1600, retries: 8 };
const LINUX: RetryPolicy = { firstRtoMs: 200, capMs: 120_000, retries: 15 };

/** What a sender keeps between segments, read through its public fields. */
function state(s: TcpSender) {
  return {
    rto: s.rto,
    ackAt: s.ackAt,
    head: s.headTimes.slice(0, s.headCount),
    levels: s.headLevels.slice(0, s.headCount),
    arrived: s.headArrived.slice(0, s.headCount),
    headArrival: s.headArrival,
    headProbeAt: s.headProbeAt,
    headAcked: s.headAcked,
    headAnswered: s.headAnswered,
    aheadAckAt: s.aheadAckAt,
    cwndCloseAt: s.cwndCloseAt,
    rtt: [s.rttWhen.slice(0, s.rttCount), s.rttSamples.slice(0, s.rttCount)],
  };
}

/** Feeds both senders `n` segments (and some ACKs carried by data) at seeded gaps; compares each step. */
function compare(side: TcpSide, policy: RetryPolicy, latencyMs: number, seed: string, n: number): number {
  const rand = seedrandom.alea(seed);
  const never = new LossProcess({ kind: "bernoulli", p: 0 }, rand);
  expect(never.certain).toBe(true);
  const general = new TcpSender(policy, side, latencyMs);
  const certain = new TcpSender(policy, side, latencyMs);
  const outG = blankTransmissions();
  const outC = blankTransmissions();
  const req = (at: number, answered: boolean, sure: boolean): SampleRequest => ({
    from: 0,
    at,
    answered,
    dataLost: () => never.lost(),
    ackLost: () => never.lost(),
    certain: sure,
  });
  let at = 0;
  let idle = 0;
  for (let i = 0; i < n; i++) {
    // Gaps from a fraction of the round trip (the connection still busy) to well past the delayed ACK.
    at += [0.3, 2, 5, 30, 45, 250][Math.floor(rand() * 6)] as number;
    if (rand() < 0.2) {
      const sentAt = at - rand() * latencyMs;
      expect(certain.ackedAt(at, sentAt)).toBe(general.ackedAt(at, sentAt));
    }
    if (at >= certain.ackAt || !side.linux) idle++;
    const answered = rand() < 0.5;
    general.sampleInto(req(at, answered, false), outG);
    certain.sampleInto(req(at, answered, true), outC);
    expect(outC).toEqual(outG);
    expect(state(certain)).toEqual(state(general));
  }
  return idle;
}

describe("the lossless shortcut", () => {
  it("a W5100's fixed sender: the same answers and state as the sampling loop", () => {
    const idle = compare({ linux: false, nagle: false, delayedAckMs: 0 }, W5100, 1.5, "w5100", 400);
    expect(idle).toBe(400);
  });

  it("the broker's Linux sender (delayed ACK 40 ms): idle and busy segments alike", () => {
    const idle = compare({ linux: true, nagle: false, delayedAckMs: 40 }, LINUX, 1.5, "linux", 400);
    // Both kinds were met: the shortcut's and the loop's (earlier data still unacked).
    expect(idle).toBeGreaterThan(50);
    expect(idle).toBeLessThan(400);
  });

  it("a Linux node's sender with every rule on", () => {
    const side: TcpSide = {
      linux: true,
      nagle: true,
      delayedAckMs: 40,
      rtoHeadAlone: true,
      dataAckRtt: true,
      tsEcho: true,
      partialAck: true,
      headAckCovers: true,
      probeLast: true,
      probeRack: true,
      sackRack: true,
      bbrCwnd: true,
      bbrCwndKept: true,
    };
    compare(side, LINUX, 1.5, "linux-node", 400);
  });

  it("an RTO shorter than the round trip is left to the loop (spurious retransmissions)", () => {
    compare(
      { linux: false, nagle: false, delayedAckMs: 0 },
      { firstRtoMs: 2, capMs: 8, retries: 3 },
      1.5,
      "short",
      100,
    );
  });

  it("a loss process is certain only when it can draw nothing", () => {
    const r = () => 0.5;
    expect(new LossProcess({ kind: "none" }, r).certain).toBe(true);
    expect(new LossProcess({ kind: "bernoulli", p: 0 }, r).certain).toBe(true);
    expect(new LossProcess({ kind: "bernoulli", p: 0.01 }, r).certain).toBe(false);
    const ge = { kind: "gilbert-elliott", pGoodToBad: 0, pBadToGood: 0, lossGood: 0, lossBad: 0 } as const;
    expect(new LossProcess(ge, r).certain).toBe(false);
  });
});
