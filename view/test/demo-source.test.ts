/**
 * The demo fleet: deterministic for a seed, converges without loss, falls out of sync under loss
 * and recovers, and carries out every console action.
 */
import { describe, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { NodeId } from "../../protocol/index.js";
import { DemoSource } from "../demo-source.js";

const n = (i: number) => NodeId(`n-${String(i).padStart(4, "0")}`);

/** Mean in-sync fraction over `ms` of model time, sampled every 250 ms. */
function run(s: DemoSource, ms: number): number {
  let sum = 0;
  let k = 0;
  for (const end = s.now() + ms; s.now() < end; k++) {
    s.advanceTo(s.now() + 250);
    sum += s.convergence().fraction;
  }
  return sum / k;
}

describe("demo fleet", () => {
  it("runs with its scheduler's clock, every 50 ms, until stopped", () => {
    const sched = new FakeScheduler(10_000);
    const s = new DemoSource({ scheduler: sched, seed: "x" }).run();
    const byHand = new DemoSource({ scheduler: new FakeScheduler(), seed: "x" });
    sched.advance(49);
    expect(s.now()).toBe(0);
    sched.advance(3_000 - 49);
    byHand.advanceTo(3_000);
    expect(s.now()).toBe(byHand.now());
    expect(s.nodes()).toEqual(byHand.nodes());
    s.stop();
    expect(sched.pending).toBe(0);
    sched.advance(5_000);
    expect(s.now()).toBe(byHand.now());
  });

  it("replays the same fleet for the same seed", () => {
    const a = new DemoSource({ scheduler: new FakeScheduler(), seed: "x" });
    const b = new DemoSource({ scheduler: new FakeScheduler(), seed: "x" });
    a.advanceTo(5000);
    b.advanceTo(5000);
    expect(a.nodes()).toEqual(b.nodes());
    expect(a.convergence()).toEqual(b.convergence());
  });

  it("converges without loss, loses sync at 40 % loss and recovers when it is lowered", async () => {
    const s = new DemoSource({ scheduler: new FakeScheduler() });
    run(s, 5000);
    const clean = run(s, 10_000);
    await s.setLoss(40);
    const lossy = run(s, 10_000);
    await s.setLoss(0);
    run(s, 5000);
    const recovered = run(s, 10_000);
    expect(clean).toBeGreaterThan(0.95);
    expect(lossy).toBeLessThan(0.9);
    expect(recovered).toBeGreaterThan(0.95);
    expect(s.latency().p99Ms).toBeGreaterThan(1000);
    expect(s.convergence().history.length).toBeGreaterThan(100);
  });

  it("presses, sets, pairs, unpairs, power-cycles and pulls cables", async () => {
    const s = new DemoSource({ scheduler: new FakeScheduler(), pressesPerNodePerMin: 0 });
    await s.press(n(0));
    s.advanceTo(2000);
    expect(
      s
        .nodes()
        .slice(0, 8)
        .every((x) => x.on),
    ).toBe(true);
    await s.set(n(3), false);
    s.advanceTo(4000);
    expect(
      s
        .nodes()
        .slice(0, 8)
        .every((x) => !x.on),
    ).toBe(true);

    await s.pair(n(20), n(0));
    expect(s.detail(n(20))?.follows).toEqual([n(19), n(0)]);
    await expect(s.pair(n(20), n(20))).rejects.toThrow("cannot follow itself");
    await s.unpair(n(20), n(0));
    expect(s.detail(n(0))?.followers).toEqual([n(1)]);

    await s.powerCycle(n(5));
    expect(s.nodes()[5]?.online).toBe(false);
    s.advanceTo(8000);
    expect(s.nodes()[5]?.online).toBe(true);
    expect(s.detail(n(5))?.link?.reconnects).toBe(1);

    await s.pullCable(n(6), true);
    s.advanceTo(20_000);
    expect(s.nodes()[6]?.online).toBe(false);
    expect(s.detail(n(6))?.cablePulled).toBe(true);
    await s.pullCable(n(6), false);
    s.advanceTo(22_000);
    expect(s.nodes()[6]?.online).toBe(true);
    await expect(s.press(NodeId("nope"))).rejects.toThrow("no node nope");
    await expect(s.setLoss(101)).rejects.toThrow("0..100");
  });
});
