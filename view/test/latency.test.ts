/**
 * Sync latency as the twins time it (view/latency.ts ReportTiming), through what reads it: the
 * `/metrics` histogram (twinsFigures) and the page's `/api/latency` (TwinsSource), on an injected
 * clock. A delivery a new pairing brought is timed from when the pairing took effect at the follower,
 * not from the origin's report long before it existed.
 */
import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { NodeId, type Stamp } from "../../protocol/index.js";
import type { ConvergenceReport, Twin, TwinChange, Twins, TwinsEvents } from "../../twins/index.js";
import { twinsFigures } from "../figures.js";
import { LatencyWindow, ReportTiming } from "../latency.js";
import { TwinsSource, type TwinsView } from "../twins-source.js";

const [a, b, c, d, f] = ["a", "b", "c", "d", "f"].map(NodeId) as [NodeId, NodeId, NodeId, NodeId, NodeId];

/** A fleet's twins as the service shows them, each change told as the service tells it. */
class FakeTwins extends EventEmitter<TwinsEvents> {
  readonly waiting = undefined;
  readonly unsavedSince = undefined;
  private readonly twins = new Map<NodeId, Twin>();
  get = (id: string): Twin | undefined => this.twins.get(NodeId(id));
  list = (): Twin[] => [...this.twins.values()];
  convergence = (): ConvergenceReport => ({ followers: [], inSync: 0, known: 0, fraction: 1 });
  badInput = () => ({ total: 0, byReason: {} });

  /** Its config as heard: whom `id` follows now. */
  follows(id: NodeId, sources: NodeId[]): void {
    this.change(id, { follows: sources }, "config");
  }
  /** Its presence as heard. */
  goes(id: NodeId, presence: "online" | "offline"): void {
    this.change(id, { presence }, "presence");
  }
  /** Retired: its twin dropped, as the service tells it. */
  retired(id: NodeId): void {
    this.twins.delete(id);
    this.emit("twin-forgotten", id, "retired");
  }
  /** Its report as heard: the stamp it holds now (`replayed`: the broker's retained copy). */
  reports(id: NodeId, stamp: Stamp, replayed = false): void {
    this.change(id, { reported: { on: true, stamp } }, "report", replayed);
  }
  private change(id: NodeId, over: Partial<Twin>, change: TwinChange, replayed = false): void {
    const before = this.twins.get(id) ?? {
      id,
      presence: "online",
      desired: { sources: [], configVersion: 0 },
      follows: [],
      followers: [],
      pairing: "confirmed",
      pairingInSync: true,
      version: 0,
    };
    const now: Twin = { ...before, ...over, version: before.version + 1 };
    this.twins.set(id, now);
    this.emit("twin-updated", now, change, replayed);
  }
}

const press: Stamp = { counter: 7, origin: c };

/**
 * A chain a → b → c → d (b follows a, c follows b, d follows c), paired from the start; c's press
 * at 1 s reaches d 30 ms later. At 20 s the chain is closed into a ring (a follows d): a takes c's
 * state from d 50 ms after its config names d, and b takes it from a 40 ms later. `f`, following c
 * all along but slow to take the press, is also made to follow d at 20 s and reports it 20 ms later.
 */
function ringOfAChain(twins: FakeTwins, clock: { t: number }): void {
  clock.t = 0;
  twins.follows(b, [a]);
  twins.follows(c, [b]);
  twins.follows(d, [c]);
  twins.follows(f, [c]);
  clock.t = 1000;
  twins.reports(c, press);
  clock.t = 1030;
  twins.reports(d, press);
  clock.t = 20_000;
  twins.follows(a, [d]);
  twins.follows(f, [c, d]);
  clock.t = 20_020;
  twins.reports(f, press);
  clock.t = 20_050;
  twins.reports(a, press);
  clock.t = 20_090;
  twins.reports(b, press);
}

describe("ReportTiming", () => {
  it("times no report the broker replayed, nor a delivery of a stamp whose origin's came replayed", () => {
    const twins = new FakeTwins();
    const seen: number[] = [];
    const clock = { t: 0 };
    const timing = new ReportTiming({ record: (ms) => seen.push(ms) }, twins.get);
    twins.on("twin-updated", (t, change, replayed) => timing.updated(t, change, clock.t, replayed));
    twins.follows(b, [a]);
    twins.follows(c, [a]);
    // Subscribing beside a fleet at rest: a's press and b's copy of it, replayed 1 ms apart.
    twins.reports(a, { counter: 3, origin: a }, true);
    clock.t = 1;
    twins.reports(b, { counter: 3, origin: a }, true);
    // c, slow, takes the same press live long after: when a made it is not known.
    clock.t = 4000;
    twins.reports(c, { counter: 3, origin: a });
    clock.t = 5000;
    twins.reports(a, { counter: 4, origin: a });
    clock.t = 5120;
    twins.reports(b, { counter: 4, origin: a });
    expect(seen).toEqual([120]);
  });

  it("times a delivery from the origin's report while the pairing stands", () => {
    const twins = new FakeTwins();
    const seen: number[] = [];
    const timing = new ReportTiming({ record: (ms) => seen.push(ms) }, twins.get);
    twins.on("twin-updated", (t, change) => timing.updated(t, change, clock.t));
    const clock = { t: 0 };
    twins.follows(b, [a]);
    clock.t = 5000;
    twins.reports(a, { counter: 1, origin: a });
    clock.t = 5120;
    twins.reports(b, { counter: 1, origin: a });
    expect(seen).toEqual([120]);
  });

  it("times a delivery a new pairing brought from the pairing, down the chain it feeds", () => {
    const twins = new FakeTwins();
    const seen: [NodeId, number][] = [];
    const clock = { t: 0 };
    let who: NodeId = a;
    const timing = new ReportTiming({ record: (ms) => seen.push([who, ms]) }, twins.get);
    twins.on("twin-updated", (t, change) => {
      who = t.id;
      timing.updated(t, change, clock.t);
    });
    ringOfAChain(twins, clock);
    expect(seen).toEqual([
      [d, 30],
      // Following c since the start, f could have had it 19 s earlier: a slow delivery, told so.
      [f, 19_020],
      [a, 50],
      [b, 90],
    ]);
  });

  it("forgets a dropped source: following it again is a new pairing", () => {
    const twins = new FakeTwins();
    const seen: number[] = [];
    const clock = { t: 0 };
    const timing = new ReportTiming({ record: (ms) => seen.push(ms) }, twins.get);
    twins.on("twin-updated", (t, change) => timing.updated(t, change, clock.t));
    twins.follows(b, [a]);
    twins.reports(a, { counter: 1, origin: a });
    clock.t = 10;
    twins.reports(b, { counter: 1, origin: a });
    twins.follows(b, []);
    clock.t = 3000;
    twins.reports(a, { counter: 2, origin: a });
    clock.t = 9000;
    twins.follows(b, [a]);
    clock.t = 9070;
    twins.reports(b, { counter: 2, origin: a });
    expect(seen).toEqual([10, 70]);
  });

  it("times a delivery to a follower back online from its return, a slow one while online as slow", () => {
    const twins = new FakeTwins();
    const seen: number[] = [];
    const clock = { t: 0 };
    const timing = new ReportTiming({ record: (ms) => seen.push(ms) }, twins.get);
    twins.on("twin-updated", (t, change) => timing.updated(t, change, clock.t));
    twins.follows(b, [a]);
    twins.follows(c, [a]);
    clock.t = 1000;
    twins.reports(a, { counter: 1, origin: a });
    clock.t = 1200;
    twins.goes(b, "offline");
    clock.t = 61_000;
    twins.goes(b, "online");
    clock.t = 61_040;
    twins.reports(b, { counter: 1, origin: a });
    clock.t = 64_000;
    twins.reports(c, { counter: 1, origin: a });
    expect(seen).toEqual([40, 63_000]);
  });
});

/**
 * b follows a and is retired at 1 s (still following a); a reports at 10 s; a new board with b's id
 * comes at 60 s, is paired with a again, and takes a's state 50 ms later.
 */
function retiredAndBack(twins: FakeTwins, clock: { t: number }): void {
  clock.t = 0;
  twins.follows(b, [a]);
  clock.t = 1000;
  twins.retired(b);
  clock.t = 10_000;
  twins.reports(a, { counter: 1, origin: a });
  clock.t = 60_000;
  twins.follows(b, [a]);
  clock.t = 60_050;
  twins.reports(b, { counter: 1, origin: a });
}

/** What `/api/latency` serves (TwinsSource, on its scheduler) once `scenario` has played. */
function served(
  scenario: (twins: FakeTwins, clock: { t: number }) => void,
): ReturnType<TwinsSource["latency"]> {
  const twins = new FakeTwins();
  const sched = new FakeScheduler(0);
  const source = new TwinsSource(twins as unknown as TwinsView, "mqtt://x", sched);
  const clock = {
    get t() {
      return sched.now();
    },
    set t(v: number) {
      sched.advance(v - sched.now());
    },
  };
  scenario(twins, clock);
  const latency = source.latency();
  source.close();
  return latency;
}

/** The window holding exactly `ms`. */
function windowOf(ms: readonly number[]): ReturnType<LatencyWindow["snapshot"]> {
  const window = new LatencyWindow();
  for (const m of ms) window.record(m);
  return window.snapshot();
}

describe("a forgotten node", () => {
  it("leaves nothing of its pairings behind in the timing", () => {
    const twins = new FakeTwins();
    const timing = new ReportTiming({ record: () => {} }, twins.get);
    twins.on("twin-updated", (t, change) => timing.updated(t, change, 0));
    const ids = Array.from({ length: 50 }, (_, i) => NodeId(`n-${i}`));
    for (const id of ids) twins.follows(id, [a]);
    expect(timing.followers).toBe(50);
    for (const id of ids) timing.forget(id);
    expect(timing.followers).toBe(0);
  });

  it("is not timed as the old pairing in the /metrics histogram when its id comes back", () => {
    const twins = new FakeTwins();
    const clock = { t: 0 };
    const figures = twinsFigures(twins as unknown as Twins, () => clock.t);
    retiredAndBack(twins, clock);
    expect(figures.latencySince?.()).toEqual([50]);
  });

  it("nor in /api/latency", () => {
    expect(served(retiredAndBack)).toEqual(windowOf([50]));
  });
});

describe("a re-pairing in what the twins serve", () => {
  it("adds no multi-second sample to the /metrics histogram", () => {
    const twins = new FakeTwins();
    const clock = { t: 0 };
    const figures = twinsFigures(twins as unknown as Twins, () => clock.t);
    ringOfAChain(twins, clock);
    expect(figures.latencySince?.()).toEqual([30, 19_020, 50, 90]);
  });

  it("adds none to /api/latency either", () => {
    expect(served(ringOfAChain)).toEqual(windowOf([30, 19_020, 50, 90]));
  });
});
