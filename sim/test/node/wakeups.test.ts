/**
 * The loop's wake-ups at fractional times (wall-clock runs): the time a board wakes for something
 * must be a time at which the check it wakes for holds. With the ideal profile no cycle cost moves
 * the job past that time, so a deadline that rounds a hair short is never met: the sync grace never
 * ends (a follower subscribes to its sources only once synced) or the keepalive check spins.
 */
import { describe, expect, it } from "vitest";
import { Cpu } from "../../../node/cpu.js";
import type { NodeEvent } from "../../../node/metrics.js";
import { loadProfile } from "../../../node/profile.js";
import { FakeScheduler, type Scheduler } from "../../../node/scheduler.js";
import { SimNode } from "../../../node/sim-node.js";
import { MemoryBroker } from "../../memory-broker.js";

const IDEAL = loadProfile("ideal");
const GRACE = IDEAL.sketch.syncGraceMs;
const KEEPALIVE = IDEAL.mqtt.keepaliveS * 1000;

/** Fractional times after `from` at which `t + d` rounds so that `(t + d) - t < d`. */
function shortSums(from: number, d: number, count: number): number[] {
  const out: number[] = [];
  for (let t = from; out.length < count; t += 0.000713) if (t + d - t < d) out.push(t);
  return out;
}

/** A fake scheduler that fails a test whose timers spin at one instant instead of hanging it. */
class GuardedScheduler implements Scheduler {
  readonly fake = new FakeScheduler();
  private lastAt = Number.NaN;
  private sameInstant = 0;

  now(): number {
    return this.fake.now();
  }

  wallNow(): number {
    return this.fake.wallNow();
  }

  at(atMs: number, fn: () => void) {
    const at = Math.max(atMs, this.fake.now());
    this.sameInstant = at === this.lastAt ? this.sameInstant + 1 : 0;
    this.lastAt = at;
    if (this.sameInstant > 1000) throw new Error(`timers spin at ${at} ms`);
    return this.fake.at(atMs, fn);
  }
}

function fleet(bootAt: readonly number[]) {
  const sched = new GuardedScheduler();
  const broker = new MemoryBroker(sched);
  const events: NodeEvent[] = [];
  const nodes = bootAt.map((at, i) => {
    const n = new SimNode({
      id: `N${i}`,
      seed: "wakeups",
      profile: IDEAL,
      sched,
      wire: broker.wire(),
      sink: (e) => events.push(e),
    });
    n.start(at);
    return n;
  });
  return { sched, broker, events, nodes };
}

describe("the sync grace at fractional connect times", () => {
  it("ends the grace on time, so forwarded reports are applied the moment they arrive", () => {
    // Three nodes, each connecting at a time where connect + grace rounds short, then paired in a
    // ring: N1 follows N0, N2 follows N1, N0 follows N2.
    const boots = shortSums(1000, GRACE, 3);
    const { sched, broker, events, nodes } = fleet(boots);
    sched.fake.runUntil(2600);
    const connected = events.filter((e) => e.type === "connected");
    const synced = events.filter((e) => e.type === "synced");
    expect(synced).toHaveLength(3);
    for (const s of synced) {
      const c = connected.find((e) => e.node === s.node);
      expect(s.at - (c?.at ?? Number.NaN)).toBeCloseTo(GRACE, 6);
    }
    expect(nodes.map((n) => n.state.phase)).toEqual(["synced", "synced", "synced"]);
    for (let i = 0; i < 3; i++) broker.publish(`tf/subscribe/N${i}`, `F1 N${(i + 2) % 3}`, { qos: 1 });
    sched.fake.runUntil(3000);
    expect(nodes.map((n) => n.state.sources)).toEqual([["N2"], ["N0"], ["N1"]]);

    // A burst: each node presses in turn; every press travels round the ring.
    const pressAt = [3100.123, 3100.457, 3101.789, 3250.001, 3250.0015, 3400.333];
    for (const [k, at] of pressAt.entries()) nodes[k % 3]?.press(at);
    sched.fake.runUntil(5000);
    const presses = events.flatMap((e) => (e.type === "press" && e.stamp ? [e] : []));
    expect(presses).toHaveLength(pressAt.length);
    for (const p of presses) {
      const stamp = p.stamp;
      const forwards = events.filter(
        (e) =>
          e.type === "applied" &&
          e.via === "report" &&
          e.stamp.counter === stamp?.counter &&
          e.stamp.origin === stamp.origin,
      );
      // Both other nodes apply it (directly or one hop on); nothing is modeled to cost time.
      expect(new Set(forwards.map((f) => f.node))).toEqual(
        new Set(["N0", "N1", "N2"].filter((n) => n !== p.node)),
      );
      for (const f of forwards) expect(f.at - p.at).toBeLessThan(1);
    }
  });
});

describe("the keepalive at fractional times", () => {
  it("pings when the keepalive is due instead of waking again and again at that instant", () => {
    const [boot] = shortSums(3000, KEEPALIVE, 1);
    const { sched, broker } = fleet([boot ?? Number.NaN]);
    sched.fake.runUntil((boot ?? 0) + 3 * KEEPALIVE);
    const pings = broker.received.filter((r) => r.packet.cmd === "pingreq");
    expect(pings.length).toBeGreaterThanOrEqual(2);
    // The last packets went out when the sync completed, at the end of the grace.
    expect((pings[0]?.at ?? 0) - (boot ?? 0)).toBeCloseTo(GRACE + KEEPALIVE, 6);
  });
});

describe("the idle loop's poll grid", () => {
  it("never places the poll that notices a packet before the packet", () => {
    const cpu = new Cpu(16_000_000, 0.055, 0);
    cpu.powerOn(1234.5678);
    for (let k = 1; k < 20_000; k++) {
      // A packet due on a grid point, computed another way: often an ulp or two off the grid.
      const t = 1234.5678 + k * 0.011 * 5;
      for (const u of [t, t + Number.EPSILON * t, t + 2 * Number.EPSILON * t]) {
        expect(cpu.nextPoll(u)).toBeGreaterThanOrEqual(u);
      }
    }
  });
});
