/**
 * Linux's tail loss probe and RACK on a Linux node's connection (node/tcp-head.ts, node/link-path.ts),
 * and the RTT sample of an ACK carried by data while a segment is held (node/tcp-sender.ts): each
 * rule on a scripted loss beside the same script without it. Latency 10 ms, RTO 200 ms; the head
 * goes at 0 and is lost, a second segment is handed over at 100, ACKs are never lost unless said.
 */
import { describe, expect, it } from "vitest";
import { LinkPath, type PathStats } from "../link.js";
import { LossProcess } from "../loss.js";
import type { RetryPolicy } from "../retransmit.js";
import { FakeScheduler } from "../scheduler.js";
import { TcpSender, type TcpSide } from "../tcp-sender.js";

const LINUX: RetryPolicy = { firstRtoMs: 200, capMs: 120_000, retries: 15 };
const BASE: TcpSide = { linux: true, nagle: false, delayedAckMs: 0, rtoHeadAlone: true, dataAckRtt: true };
const Q: TcpSide = { ...BASE, probeLast: true };
const QR: TcpSide = { ...Q, probeRack: true };

/** A loss decision per draw, in turn (true = lost); past the script nothing is lost. */
function scripted(xs: boolean[]): LossProcess {
  let i = 0;
  return new LossProcess({ kind: "bernoulli", p: 0.5 }, () =>
    i < xs.length && xs[i++] === true ? 0.1 : 0.9,
  );
}

const stats = (): PathStats => ({ segments: 0, bytes: 0, retransmissions: 0, timeouts: 0, windowStalls: 0 });

/** When the head and the second segment reach the receiver. */
function run(side: TcpSide, data: boolean[]): string[] {
  const sched = new FakeScheduler();
  const got: string[] = [];
  const deliver = (b: Buffer, at: number): boolean => {
    got.push(`${b.toString()}@${at}`);
    return true;
  };
  const p = new LinkPath(
    sched,
    LINUX,
    scripted(data),
    10,
    { deliver, timedOut: () => {}, upAt: () => true },
    stats(),
    false,
    side,
    scripted([]),
  );
  p.send(Buffer.from("h"), 0);
  sched.runUntil(100);
  p.send(Buffer.from("y"), 100);
  sched.runUntil(5000);
  return got;
}

describe("the tail loss probe sends the later segment, not the head (tcp_send_loss_probe)", () => {
  // Draws: the head lost at 0, in at its probe (200); then the head's next transmission, then the second's.
  const data = [true, false, false, false];
  it("with the rule the head waits for its RTO, one RTO after the probe (400)", () => {
    expect(run(Q, data)).toEqual(["h@410", "y@410"]);
  });
  it("without it the head goes again at the probe (200)", () => {
    expect(run(BASE, data)).toEqual(["h@210", "y@210"]);
  });
});

describe("the probe's SACK has RACK send the head again (tcp_rack_detect_loss)", () => {
  // With R the draws are: the head (lost at 0, in at 200 as first sampled), the probe (in; its SACK
  // back), the head's RACK retransmission at 220 (in), the second segment at 100 (lost). Without R:
  // the head (lost, in), the head's RTO at 400 (in), the second at 100 (in, waits behind the head).
  const data = [true, false, false, false, true];
  it("with the rule the head goes again 2·latency after the probe (220), in at 230", () => {
    expect(run(QR, data)).toEqual(["h@230", "y@230"]);
  });
  it("without it the head waits for its RTO (400)", () => {
    expect(run(Q, data)).toEqual(["h@410", "y@410"]);
  });
});

describe("a later segment's SACK has RACK send the head again", () => {
  // The second segment, sent at 100, is in at 110 with the head missing; its SACK is back at 120.
  const data = [true, false, false, false, false, false];
  it("with the rule the head goes again at 120, in at 130", () => {
    expect(run({ ...QR, sackRack: true }, data)).toEqual(["h@130", "y@130"]);
  });
  it("without it the head waits for the probe (200) and its SACK: again at 220", () => {
    expect(run(QR, data)).toEqual(["h@230", "y@230"]);
  });
});

describe("the ACK carried by data samples the segment it acknowledges, not one held behind it", () => {
  // The head at 0 (in at 10), its ACKs lost until that of the transmission at 800 (back at 820); a
  // segment handed over at 500, after the RTO (400), is held until that ACK and placed at 820 (which
  // takes the head's sample, 20 ms: SRTT 20, RTTVAR 10). The other end's data sent at 600 arrives at
  // 610 with the head's ACK.
  const rto = (side: TcpSide) => {
    const sender = new TcpSender(LINUX, { ...side, tsEcho: true }, 10);
    const ok = () => false;
    const acks = [true, true, true, false];
    let i = 0;
    sender.sample({ from: 0, at: 0, answered: true, dataLost: ok, ackLost: () => acks[i++] === true });
    expect(sender.releaseAt(500)).toBe(820);
    sender.sample({ from: 0, at: 820, answered: true, dataLost: ok, ackLost: ok });
    expect(sender.ackedAt(610, 600)).toBe(true);
    return sender.rto;
  };
  it("with the rule from the head's latest transmission in (400): 210 ms, RTO 43.75 + 220", () => {
    expect(rto({ ...BASE, heldSample: true })).toBe(263.75);
  });
  it("without it from the held segment's first, not yet sent (820): 0 ms, RTO 17.5 + 200", () => {
    expect(rto(BASE)).toBe(217.5);
  });
});
