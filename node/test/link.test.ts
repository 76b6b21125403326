/**
 * The link model: the sampled retransmission delays follow the analytic backoff distribution
 * (docs/device-model.md §Link), in-order delivery with head-of-line blocking, timeouts, cable pulls,
 * closed receive windows and Gilbert–Elliott bursts.
 */
import { describe, expect, it } from "vitest";
import { Link, LinkPath, type PathStats } from "../link.js";
import { LossProcess, type LossSpec, meanLoss } from "../loss.js";
import { delayBefore, type RetryPolicy, retransmissionDistribution, timeoutAfter } from "../retransmit.js";
import { nodeRandom, type Random } from "../rng.js";
import { FakeScheduler } from "../scheduler.js";

const W5100: RetryPolicy = { firstRtoMs: 200, capMs: 6400, retries: 8 };
const stats = (): PathStats => ({ segments: 0, bytes: 0, retransmissions: 0, timeouts: 0, windowStalls: 0 });

function path(
  sched: FakeScheduler,
  loss: LossSpec | Random,
  opts: { latencyMs?: number; up?: (t: number) => boolean } = {},
) {
  const delivered: { at: number; tag: number }[] = [];
  const timeouts: number[] = [];
  const rand = typeof loss === "function" ? loss : nodeRandom("link-test", "n1", "loss-up");
  const spec = typeof loss === "function" ? ({ kind: "bernoulli", p: 0.5 } as const) : loss;
  const p = new LinkPath(
    sched,
    W5100,
    new LossProcess(spec, rand),
    opts.latencyMs ?? 0,
    {
      deliver: (b, at) => {
        delivered.push({ at, tag: b[0] ?? -1 });
        return true;
      },
      timedOut: (at) => timeouts.push(at),
      upAt: opts.up ?? (() => true),
    },
    stats(),
  );
  return { p, delivered, timeouts };
}

/** A Random that returns the given values in turn. */
const scripted = (xs: number[]): Random => {
  let i = 0;
  return () => xs[i++ % xs.length] ?? 0.99;
};

describe("retransmission delay under loss p", () => {
  it("matches P(k) = p^k (1-p) and the mean of the doubled, capped waits (20,000 seeded segments)", () => {
    const p = 0.2;
    const N = 20_000;
    const sched = new FakeScheduler();
    const { p: lp, delivered, timeouts } = path(sched, { kind: "bernoulli", p }, { latencyMs: 0.5 });
    // One segment every 40 s: longer than a full timeout, so no segment waits behind another.
    const gap = 40_000;
    for (let i = 0; i < N; i++) sched.at(i * gap, () => lp.send(Buffer.from([i % 256]), i * gap));
    sched.runUntil(N * gap + gap);
    // Every delay is below the 31.8 s timeout, so a delivery belongs to the segment sent before it.
    const delays = delivered.map((d) => d.at - Math.floor(d.at / gap) * gap - 0.5);
    expect(delivered.length + timeouts.length).toBe(N);

    const dist = retransmissionDistribution(p, W5100);
    const counts = new Map<number, number>();
    for (const d of delays) {
      const k = [...Array(W5100.retries + 1).keys()].find((k) => Math.abs(delayBefore(W5100, k) - d) < 1e-6);
      expect(k, `delay ${d} is not a sum of doubled RTOs`).toBeDefined();
      counts.set(k ?? -1, (counts.get(k ?? -1) ?? 0) + 1);
    }
    // Tolerance: 4 standard errors of a binomial proportion (false failure ~ 6e-5 per check).
    for (const o of dist.filter((o) => o.k >= 0 && o.k <= 3)) {
      const f = (counts.get(o.k) ?? 0) / N;
      const se = Math.sqrt((o.probability * (1 - o.probability)) / N);
      expect(Math.abs(f - o.probability), `P(k=${o.k})`).toBeLessThan(4 * se);
    }
    // Mean added delay of delivered segments vs its expectation, within 4 standard errors.
    const delivering = dist.filter((o) => o.k >= 0);
    const mass = delivering.reduce((s, o) => s + o.probability, 0);
    const mean = delivering.reduce((s, o) => s + o.probability * o.delayMs, 0) / mass;
    const variance = delivering.reduce((s, o) => s + o.probability * (o.delayMs - mean) ** 2, 0) / mass;
    const observed = delays.reduce((s, d) => s + d, 0) / delays.length;
    expect(mean).toBeCloseTo(66.48, 1); // the worked example in docs/device-model.md
    expect(Math.abs(observed - mean)).toBeLessThan(4 * Math.sqrt(variance / delays.length));
  });

  it("times out after RCR+1 lost transmissions: 31.8 s with the W5100 defaults", () => {
    expect(timeoutAfter(W5100)).toBe(31_800);
    const sched = new FakeScheduler();
    const { p, delivered, timeouts } = path(sched, { kind: "bernoulli", p: 1 });
    p.send(Buffer.from([1]), 0);
    sched.runUntil(60_000);
    expect(delivered).toEqual([]);
    expect(timeouts).toEqual([31_800]);
  });
});

describe("ordering", () => {
  it("holds a later segment behind a retransmitted one (head-of-line blocking)", () => {
    const sched = new FakeScheduler();
    // p = 0.5: first draw 0.1 loses segment 1's first attempt, then everything gets through.
    const { p, delivered } = path(sched, scripted([0.1, 0.9, 0.9, 0.9]));
    p.send(Buffer.from([1]), 0);
    sched.at(10, () => p.send(Buffer.from([2]), 10));
    sched.runUntil(1000);
    expect(delivered).toEqual([
      { at: 200, tag: 1 },
      { at: 200, tag: 2 },
    ]);
  });

  it("lets the receiver close its window and delivers when it opens", () => {
    const sched = new FakeScheduler();
    let open = false;
    const got: number[] = [];
    const s = stats();
    const p = new LinkPath(
      sched,
      W5100,
      new LossProcess({ kind: "none" }, () => 0.5),
      0,
      {
        deliver: (_b, at) => {
          if (open) got.push(at);
          return open;
        },
        timedOut: () => {},
        upAt: () => true,
      },
      s,
    );
    p.send(Buffer.from([1]), 0);
    sched.runUntil(100);
    expect(got).toEqual([]);
    expect(s.windowStalls).toBe(1);
    open = true;
    sched.at(150, () => p.resume(150));
    sched.runUntil(300);
    expect(got).toEqual([150]);
  });
});

describe("cable pull", () => {
  it("loses attempts while the cable is out and delivers on the first retransmission after it is back", () => {
    const sched = new FakeScheduler();
    const link = new Link({
      sched,
      nodePolicy: W5100,
      brokerPolicy: { firstRtoMs: 200, capMs: 120_000, retries: 15 },
      latencyMs: 0,
      connectTimeoutMs: 1000,
      randUp: () => 0.5,
      randDown: () => 0.5,
    });
    const got: number[] = [];
    const { up } = link.connect(
      {
        deliver: (_b, at) => {
          got.push(at);
          return true;
        },
        timedOut: () => {},
      },
      { deliver: () => true, timedOut: () => {} },
    );
    link.pullCable(0);
    up.send(Buffer.from([1]), 0);
    sched.at(1000, () => link.plugCable(1000));
    sched.runUntil(10_000);
    // Attempts at 0, 200, 600 fall in the outage; the one at 1400 gets through.
    expect(got).toEqual([1400]);
    expect(link.stats.up.retransmissions).toBe(3);
  });

  it("fails the TCP handshake while the cable is out, within the 1 s connect timeout", () => {
    const sched = new FakeScheduler();
    const link = new Link({
      sched,
      nodePolicy: W5100,
      brokerPolicy: W5100,
      latencyMs: 0.2,
      connectTimeoutMs: 1000,
      randUp: () => 0.5,
      randDown: () => 0.5,
    });
    link.pullCable(0);
    expect(link.handshake(5)).toEqual({ ok: false, at: 1005 });
    expect(link.stats.synRetransmissions).toBe(3); // SYNs at 5, 205, 605
    link.plugCable(2000);
    expect(link.handshake(2000)).toEqual({ ok: true, at: 2000.4 });
  });
});

describe("Gilbert–Elliott loss", () => {
  it("has the stationary mean loss and bursts (a loss follows a loss more often than on average)", () => {
    const spec: LossSpec = {
      kind: "gilbert-elliott",
      pGoodToBad: 0.02,
      pBadToGood: 0.2,
      lossGood: 0.01,
      lossBad: 0.6,
    };
    const lp = new LossProcess(spec, nodeRandom("ge", "n1", "loss-down"));
    const N = 200_000;
    let lost = 0;
    let pairs = 0;
    let prev = false;
    for (let i = 0; i < N; i++) {
      const l = lp.lost();
      if (l) lost++;
      if (l && prev) pairs++;
      prev = l;
    }
    expect(Math.abs(lost / N - meanLoss(spec))).toBeLessThan(0.01);
    expect(pairs / lost).toBeGreaterThan(2 * meanLoss(spec));
  });

  it("changes while running and replays the same losses for the same seed", () => {
    const draw = () => {
      const lp = new LossProcess({ kind: "bernoulli", p: 0.3 }, nodeRandom("s", "n", "loss-up"));
      const a = Array.from({ length: 50 }, () => lp.lost());
      lp.set({ kind: "none" });
      const b = Array.from({ length: 50 }, () => lp.lost());
      return { a, b };
    };
    const x = draw();
    expect(x).toEqual(draw());
    expect(x.a.some((l) => l)).toBe(true);
    expect(x.b.every((l) => !l)).toBe(true);
  });
});

describe("a power cut at the sender", () => {
  it("still delivers, in order, what left before it; nothing after the first segment that needed a later transmission", () => {
    const sched = new FakeScheduler();
    // Segment 1 gets through at once; segment 2 is lost once (its retransmission is due 200 ms later);
    // segment 3 gets through at once but must wait behind 2 (in-order delivery).
    const { p, delivered, timeouts } = path(sched, scripted([0.9, 0.1, 0.9, 0.9]), { latencyMs: 0.2 });
    let done = false;
    p.send(Buffer.from([1]), 0);
    p.send(Buffer.from([2]), 0);
    p.send(Buffer.from([3]), 0);
    sched.runUntil(0.1); // the cut comes before any of them has arrived
    p.cut(0.1, () => {
      done = true;
    });
    sched.runUntil(60_000);
    expect(delivered).toEqual([{ at: 0.2, tag: 1 }]);
    expect(timeouts).toEqual([]);
    expect(done).toBe(true);
  });

  it("is done at once when nothing is in flight", () => {
    const sched = new FakeScheduler();
    const { p, delivered } = path(sched, { kind: "none" }, { latencyMs: 0.2 });
    let done = false;
    p.cut(0, () => {
      done = true;
    });
    p.send(Buffer.from([1]), 0);
    sched.runUntil(10);
    expect(done).toBe(true);
    expect(delivered).toEqual([]);
  });
});
