/**
 * The TCP rules of the link model, each on scripted losses: ACK loss as its own event, the backoff a
 * connection keeps until new data is acknowledged, Loss-state retransmission, the tail loss probe,
 * RTO from SRTT/RTTVAR with Linux's floor, cumulative ACKs, Nagle with the delayed ACK (and the
 * tail loss probe that sends held data), and the ACK carried by the other direction's data (the
 * handshake: link-syn.test.ts).
 */
import { describe, expect, it } from "vitest";
import { Link, LinkPath, type PathStats } from "../link.js";
import { LossProcess } from "../loss.js";
import { loadProfile } from "../profile.js";
import type { RetryPolicy } from "../retransmit.js";
import { FakeScheduler } from "../scheduler.js";
import { TcpSender, type TcpSide } from "../tcp-sender.js";

const LINUX: RetryPolicy = { firstRtoMs: 200, capMs: 120_000, retries: 15 };
const LINUX_SIDE: TcpSide = { linux: true, nagle: false, delayedAckMs: 0 };
const stats = (): PathStats => ({ segments: 0, bytes: 0, retransmissions: 0, timeouts: 0, windowStalls: 0 });

/** A loss decision per call, in turn; true = lost. Running out of script fails the test. */
function script(xs: boolean[]): () => boolean {
  let i = 0;
  return () => {
    if (i >= xs.length) throw new Error(`loss script of ${xs.length} ran out`);
    return xs[i++] as boolean;
  };
}

/** A LossProcess whose draws follow a script (bernoulli 0.5 over scripted uniforms). */
function scriptedLoss(xs: boolean[]): LossProcess {
  const next = script(xs);
  return new LossProcess({ kind: "bernoulli", p: 0.5 }, () => (next() ? 0.1 : 0.9));
}

function path(opts: { side: TcpSide; data: boolean[]; acks?: boolean[]; latencyMs?: number }) {
  const sched = new FakeScheduler();
  const delivered: { at: number; tag: number }[] = [];
  const s = stats();
  const p = new LinkPath(
    sched,
    LINUX,
    scriptedLoss(opts.data),
    opts.latencyMs ?? 0,
    {
      deliver: (b, at) => {
        delivered.push({ at, tag: b[1] ?? -1 });
        return true;
      },
      timedOut: () => {},
      upAt: () => true,
    },
    s,
    false,
    opts.side,
    opts.acks ? scriptedLoss(opts.acks) : undefined,
  );
  return { sched, p, delivered, s };
}

// MQTT first bytes: PUBACK (not answered by the receiver), PUBLISH QoS 0 (not answered), QoS 1.
const PUBACK = 0x40;
const PUB0 = 0x30;
const PUB1 = 0x32;
const seg = (type: number, tag: number) => Buffer.from([type, tag]);

describe("ACK loss", () => {
  it("delivers the data on time, but the lost ACK costs a spurious retransmission", () => {
    // Data always through; the first ACK is lost, the tail loss probe's ACK gets back.
    const { sched, p, delivered, s } = path({
      side: LINUX_SIDE,
      data: [false, false],
      acks: [true, false],
      latencyMs: 1,
    });
    p.send(seg(PUB1, 1), 0);
    sched.runUntil(1000);
    expect(delivered).toEqual([{ at: 1, tag: 1 }]);
    expect(s.retransmissions).toBe(1);
    expect(p.tcp.ackAt).toBe(202);
  });

  it("without a reverse loss process the sender never retransmits a delivered segment", () => {
    const { sched, p, s } = path({ side: LINUX_SIDE, data: [false], latencyMs: 1 });
    p.send(seg(PUB1, 1), 0);
    sched.runUntil(1000);
    expect(s.retransmissions).toBe(0);
  });
});

/** Segment 1: delivered at once; ACKs of 0 (TLP at 200), 200 (RTO at 400) and 400 lost; 800's back. */
function backedOff() {
  const sender = new TcpSender(LINUX, LINUX_SIDE, 10);
  const one = sender.sample({
    from: 0,
    at: 0,
    answered: true,
    dataLost: script([false, false, false, false]),
    ackLost: script([true, true, true, false]),
  });
  return { sender, one };
}

/** A segment sent at `at` whose first transmission is lost and whose second gets through, ACKed. */
function lostOnce(sender: TcpSender, at: number) {
  return sender.sample({
    from: 0,
    at,
    answered: true,
    dataLost: script([true, false]),
    ackLost: script([false]),
  });
}

describe("backoff kept by the connection", () => {
  const run = backedOff;

  it("doubles after each RTO (the probe does not count) and holds until new data is acked", () => {
    const { sender, one } = run();
    expect(one.times).toEqual([0, 200, 400, 800]);
    expect(one.ackAt).toBe(820);
    expect(sender.backoffAt(300)).toBe(0);
    expect(sender.backoffAt(400)).toBe(1);
    expect(sender.backoffAt(810)).toBe(2);
    expect(sender.backoffAt(820)).toBe(0);
  });

  it("a segment sent at the RTO inherits it: its first retransmission after 2×RTO", () => {
    const { sender } = run();
    const two = lostOnce(sender, 400);
    expect(two.times).toEqual([400, 800]);
  });

  it("Loss state: a later segment goes again with the first one's next retransmission", () => {
    const { sender } = run();
    const two = lostOnce(sender, 500);
    // Its own backed-off RTO would fire at 500 + 400; the connection retransmits at 800.
    expect(two.times).toEqual([500, 800]);
  });

  it("resets once new data is acked: a segment after the ACK gets the un-backed-off RTO", () => {
    const { sender } = run();
    const three = lostOnce(sender, 1000);
    // RTT sample 20 ms: SRTT 20, RTTVAR 10, RTO = 20 + max(40, 200) = 220 (a tail loss probe).
    expect(sender.rto).toBe(220);
    expect(three.times).toEqual([1000, 1220]);
  });

  it("the ACK of an earlier segment re-arms the timer of one still outstanding", () => {
    const sender = new TcpSender(LINUX, LINUX_SIDE, 100);
    const one = sender.sample({
      from: 0,
      at: 0,
      answered: true,
      dataLost: script([false, false]),
      ackLost: script([true, false]),
    });
    expect(one.ackAt).toBe(400);
    const two = lostOnce(sender, 250);
    // No later retransmission of segment 1 carries it; segment 1's ACK at 400 restarts the
    // timer: 400 + RTO 200 (not 250 + 200: RFC 6298 §5.3).
    expect(two.times).toEqual([250, 600]);
  });

  it("a later segment's ACK covers an earlier one whose ACKs were lost (cumulative)", () => {
    const { sender } = backedOff();
    expect(sender.ackAt).toBe(820);
    sender.sample({ from: 0, at: 450, answered: true, dataLost: script([false]), ackLost: script([false]) });
    expect(sender.ackAt).toBe(470);
    expect(sender.backoffAt(500)).toBe(0);
  });
});

describe("tail loss probe", () => {
  it("an idle connection's first timer is a probe: retransmissions at RTO, 2×RTO, 4×RTO (W5100: 1, 3, 7)", () => {
    const sender = new TcpSender(LINUX, LINUX_SIDE, 0);
    const r = sender.sample({
      from: 0,
      at: 0,
      answered: true,
      dataLost: script([true, true, true, false]),
      ackLost: script([false]),
    });
    expect(r.times).toEqual([0, 200, 400, 800]);
    const w = new TcpSender({ firstRtoMs: 200, capMs: 6400, retries: 8 }, { ...LINUX_SIDE, linux: false }, 0);
    const rw = w.sample({
      from: 0,
      at: 0,
      answered: true,
      dataLost: script([true, true, true, false]),
      ackLost: script([false]),
    });
    expect(rw.times).toEqual([0, 200, 600, 1400]);
  });
});

describe("RTO from SRTT/RTTVAR", () => {
  it("follows RFC 6298 §2 with Linux's 200 ms floor and 120 s cap", () => {
    const s = new TcpSender(LINUX, LINUX_SIDE, 0);
    expect(s.rto).toBe(200); // before any sample: the floor (the handshake's sample is sub-ms)
    s.rttSample(0.1); // SRTT 0.1, RTTVAR 0.05: the floor decides
    expect(s.rto).toBeCloseTo(200.1, 9);
    s.rttSample(300); // RTTVAR = 0.75·0.05 + 0.25·299.9, SRTT = 0.875·0.1 + 0.125·300
    const rttvar = 0.75 * 0.05 + 0.25 * 299.9;
    const srtt = 0.875 * 0.1 + 0.125 * 300;
    expect(s.rto).toBeCloseTo(srtt + 4 * rttvar, 9);
    s.rttSample(1e6);
    expect(s.rto).toBe(120_000);
  });
});

describe("Nagle and the delayed ACK", () => {
  const side: TcpSide = { linux: true, nagle: true, delayedAckMs: 40 };

  it("holds a small segment until the previous one's delayed ACK, coalescing what follows", () => {
    const { sched, p, delivered } = path({
      side,
      data: [false, false, false],
      acks: [false, false, false],
      latencyMs: 1,
    });
    p.send(seg(PUBACK, 1), 0); // not answered: ACKed by the receiver's 40 ms timer, back at 42
    sched.at(10, () => p.send(seg(PUB0, 2), 10));
    sched.at(20, () => p.send(seg(PUB0, 3), 20));
    sched.runUntil(1000);
    expect(delivered).toEqual([
      { at: 1, tag: 1 },
      { at: 43, tag: 2 },
      { at: 43, tag: 3 },
    ]);
  });

  it("does not wait when the receiver answers at once (the ACK rides on the answer)", () => {
    const { sched, p, delivered } = path({ side, data: [false, false], acks: [false, false], latencyMs: 1 });
    p.send(seg(PUB1, 1), 0); // PUBLISH QoS 1: the PUBACK carries the ACK, back at 2
    sched.at(10, () => p.send(seg(PUB0, 2), 10));
    sched.runUntil(1000);
    expect(delivered).toEqual([
      { at: 1, tag: 1 },
      { at: 11, tag: 2 },
    ]);
  });

  it("a held segment goes as the tail loss probe when the probe fires before the ACK (Linux tcp_send_loss_probe)", () => {
    // Segment 1 arrives at 1, but the ACKs of its transmissions at 0 and 200 (the probe) are lost;
    // the one at 400 is ACKed, back at 402. Segment 2, handed over at 10, waits for the probe at 200
    // and goes as new data then, not behind the ACK at 402.
    const early = path({
      side,
      data: [false, false, false, false],
      acks: [true, true, false, false],
      latencyMs: 1,
    });
    early.p.send(seg(PUB0, 1), 0);
    early.sched.at(10, () => early.p.send(seg(PUB0, 2), 10));
    early.sched.runUntil(5000);
    expect(early.delivered).toEqual([
      { at: 1, tag: 1 },
      { at: 201, tag: 2 },
    ]);
    // Handed over after the probe went (one probe per tail): it waits for the ACK, as before.
    const late = path({
      side,
      data: [false, false, false, false],
      acks: [true, true, false, false],
      latencyMs: 1,
    });
    late.p.send(seg(PUB0, 1), 0);
    late.sched.at(250, () => late.p.send(seg(PUB0, 2), 250));
    late.sched.runUntil(5000);
    expect(late.delivered).toEqual([
      { at: 1, tag: 1 },
      { at: 403, tag: 2 },
    ]);
  });

  it("without Nagle the second segment goes at once", () => {
    const { sched, p, delivered } = path({
      side: { ...side, nagle: false },
      data: [false, false],
      acks: [false, false],
      latencyMs: 1,
    });
    p.send(seg(PUBACK, 1), 0);
    sched.at(10, () => p.send(seg(PUB0, 2), 10));
    sched.runUntil(1000);
    expect(delivered.map((d) => d.at)).toEqual([1, 11]);
  });
});

describe("Link wiring", () => {
  it("ACKs of the up direction are lost by the down direction's process: the W5100 times out at RCR though the data arrived", () => {
    const sched = new FakeScheduler();
    const link = new Link({
      sched,
      nodePolicy: { firstRtoMs: 200, capMs: 6400, retries: 8 },
      brokerPolicy: LINUX,
      latencyMs: 1,
      connectTimeoutMs: 1000,
      randUp: () => 0.99, // up: nothing lost
      randDown: () => 0, // down: everything lost, ACKs of the node's data included
      loss: { kind: "bernoulli", p: 0.5 },
      ackLoss: true,
    });
    const got: number[] = [];
    const timeouts: number[] = [];
    const { up } = link.connect(
      { deliver: (_b, at) => got.push(at) > 0, timedOut: (at) => timeouts.push(at) },
      { deliver: () => true, timedOut: () => {} },
    );
    up.send(seg(PUB0, 1), 0);
    sched.runUntil(60_000);
    expect(got).toEqual([1]);
    expect(link.stats.up.retransmissions).toBe(8);
    expect(timeouts).toEqual([31_800]);
  });

  it("linux-client carries Linux's node side; the W5100 profiles keep the datasheet's", () => {
    expect(loadProfile("linux-client").nodeTcp).toEqual({
      nagle: true,
      delayedAckMs: 40,
      synRtoMs: 1000,
      synRetries: 6,
    });
    expect(loadProfile("uno-w5100").nodeTcp).toBeUndefined();
    expect(loadProfile("due-w5100").nodeTcp).toBeUndefined();
  });
});

describe("the ACK carried by the other direction's data (RFC 793 §3.7)", () => {
  it("ends the backoff: a segment sent after it gets the un-backed-off RTO", () => {
    // Segment 1 arrives at once; the ACKs of its transmissions at 0, 200 and 400 are lost.
    const { sender } = backedOff();
    expect(sender.backoffAt(500)).toBe(1);
    // The receiver's own data, carrying the ACK, reaches the sender at 450.
    expect(sender.ackedAt(450)).toBe(true);
    expect(sender.backoffAt(500)).toBe(0);
    expect(sender.ackedAt(460)).toBe(false); // only an earlier ACK moves it
    const two = lostOnce(sender, 500);
    expect(two.times).toEqual([500, 700]);
  });

  /** A linux-client link whose down draws follow `down` (strictly) and up draws `upDraws`, then pass. */
  function linuxLink(down: number[], upDraws: number[] = []) {
    const sched = new FakeScheduler();
    let i = 0;
    let u = 0;
    const link = new Link({
      sched,
      nodePolicy: LINUX,
      brokerPolicy: LINUX,
      latencyMs: 1,
      connectTimeoutMs: 1000,
      randUp: () => (u < upDraws.length ? (upDraws[u++] as number) : 0.99),
      randDown: () => {
        if (i >= down.length) throw new Error(`down script of ${down.length} ran out`);
        return down[i++] as number;
      },
      loss: { kind: "bernoulli", p: 0.5 },
      ackLoss: true,
      nodeTcp: { linux: true, nagle: true, delayedAckMs: 40 },
      brokerTcp: { linux: true, nagle: false, delayedAckMs: 40 },
    });
    const up: number[] = [];
    const paths = link.connect(
      { deliver: (_b, at) => up.push(at) > 0, timedOut: () => {} },
      { deliver: () => true, timedOut: () => {} },
    );
    return { sched, paths, up };
  }

  it("a Linux node's held segment goes when the broker's data brings the ACK its lost pure ACKs did not", () => {
    // Down draws: the ACKs of the node's segment at 0, 200 (probe) and 400 lost, at 800 through;
    // then the broker's PUBLISH at 100 gets through, and the ACK of the node's second segment.
    const { sched, paths, up } = linuxLink([0, 0, 0, 0.99, 0.99, 0.99]);
    paths.up.send(seg(PUB0, 1), 0);
    sched.at(100, () => paths.down.send(seg(PUB0, 9), 100));
    // Nagle holds the next report while the first is unacknowledged: until the ACK the broker's
    // PUBLISH carries, delivered at 101, not the probe at 200 or the pure ACK back at 802.
    sched.at(150, () => paths.up.send(seg(PUB0, 2), 150));
    sched.runUntil(5000);
    expect(up).toEqual([1, 151]);
    // Everything is acknowledged by the second segment's delayed ACK (150 + 2 + 40).
    expect(paths.up.tcp.ackAt).toBe(192);
  });

  it("not before the data it acknowledges has arrived: a reply sent earlier acknowledges nothing of it", () => {
    // The node's segment at 0 is lost once (data), arrives with the probe at 200 (+1); its ACK back.
    // The broker's PUBLISH sent at 100, before that arrival, carries no ACK of it.
    // Down: the ACK of the probe through, the broker's data through. Up: the first transmission lost.
    const { sched, paths, up: got } = linuxLink([0.99, 0.99], [0, 0.99, 0.99, 0.99]);
    paths.up.send(seg(PUB0, 1), 0);
    sched.at(100, () => paths.down.send(seg(PUB0, 9), 100));
    sched.runUntil(150);
    expect(got).toEqual([]);
    expect(paths.up.tcp.ackAt).toBeGreaterThan(200);
  });
});
