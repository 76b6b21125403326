/**
 * The node's MQTT session on fake time: keepalive and dead-link detection, socket timeouts under
 * loss and the reconnect that re-syncs, cable pulls, power cycles that recover pairings, and seeded,
 * reproducible presses.
 */
import { describe, expect, it } from "vitest";
import type { NodeEvent } from "../../../node/metrics.js";
import { SimNode } from "../../../node/sim-node.js";
import { rig, UNO } from "./helpers.js";

describe("keepalive", () => {
  it("pings after 15 s of silence and declares the link dead when a ping goes unanswered", () => {
    const r = rig();
    const n = r.node("A");
    n.start();
    r.sched.runUntil(3000);
    r.broker.answerPings = false;
    r.sched.runUntil(60_000);
    const [lost] = r.of("disconnected");
    expect(lost?.reason).toBe("keepalive");
    // Last activity at the sync (~2.06 s): ping at +15 s, dead at +30 s: within 2x keepalive.
    expect(lost?.at).toBeGreaterThan(2000 + 30_000);
    expect(lost?.at).toBeLessThan(2100 + 30_000 + 1);
    // The sketch reconnects at once (and the broker answers connects, not pings).
    expect(r.of("connected").length).toBeGreaterThanOrEqual(2);
  });
});

describe("loss and reconnects", () => {
  it("times the socket out when retransmissions run out, reconnects with handshakes under loss, re-syncs", () => {
    const r = rig();
    const n = r.node("A");
    n.start();
    r.sched.runUntil(3000);
    n.setLoss({ kind: "bernoulli", p: 1 });
    n.press(3000);
    r.sched.runUntil(40_000);
    expect(r.of("disconnected")).toHaveLength(1);
    expect(n.connected).toBe(false);
    const failed = r.of("connect-failed");
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((f) => f.reason === "handshake")).toBe(true);
    n.setLoss({ kind: "bernoulli", p: 0.3 });
    r.sched.runUntil(200_000);
    expect(n.connected).toBe(true);
    expect(r.of("synced").length).toBeGreaterThanOrEqual(2);
    // The press survived: the retained report carries its stamp.
    expect(r.broker.retained.get("tf/report/A")).toBe("R1 1 1 A");
    const s = n.stats();
    expect(s.link.up.retransmissions).toBeGreaterThan(0);
    expect(s.link.synRetransmissions).toBeGreaterThan(0);
    expect(s.mqtt.reconnects).toBeGreaterThanOrEqual(1);
  });

  it("rides out a short cable pull without reconnecting", () => {
    const r = rig();
    const n = r.node("A");
    n.start();
    r.sched.runUntil(3000);
    n.pullCable();
    n.press(3000);
    r.sched.runUntil(4000);
    n.plugCable();
    r.sched.runUntil(10_000);
    expect(r.of("disconnected")).toHaveLength(0);
    // Sent at ~3000 ms: attempts at +0, +0.2, +0.6 s are lost; +1.4 s gets through.
    const report = r.broker.publishes("tf-A").find((p) => p.payload === "R1 1 1 A");
    expect(report?.at).toBeGreaterThan(4400);
    expect(report?.at).toBeLessThan(4401);
  });
});

describe("power cycle", () => {
  it("reboots with RAM lost and recovers its pairing and state from the broker", () => {
    const r = rig();
    const n = r.node("A");
    n.start();
    r.sched.runUntil(3000);
    r.broker.publish("tf/subscribe/A", "F1 B");
    n.press(3500);
    r.sched.runUntil(5000);
    expect(n.state.sources).toEqual(["B"]);
    n.powerCycle(2000);
    r.sched.runUntil(7001);
    expect(r.of("boot").map((b) => b.at)).toEqual([0, 7000]);
    expect(n.state.sources).toEqual([]); // RAM was lost with the power
    expect(r.of("disconnected")[0]?.reason).toBe("power-off");
    r.sched.runUntil(20_000);
    expect(n.state.phase).toBe("synced");
    expect(n.state.sources).toEqual(["B"]);
    expect(n.state.stamp).toEqual({ counter: 1, origin: "A" });
    expect(n.state.on).toBe(true);
  });
});

describe("presses", () => {
  const times = (seed: string) => {
    const r = rig();
    const n = r.node("A", { seed });
    n.start();
    n.addPresses({ kind: "poisson", ratePerSec: 2, from: 3000, until: 103_000 });
    n.addPresses({ kind: "burst", at: 50_000, count: 10, intervalMs: 50 });
    r.sched.runUntil(110_000);
    return r.of("press").map((p) => p.at);
  };

  it("are reproducible from the seed and Poisson at the given rate", () => {
    const a = times("s1");
    expect(a).toEqual(times("s1"));
    expect(a).not.toEqual(times("s2"));
    // 200 expected Poisson presses in 100 s (sd ~14) plus the burst of 10.
    expect(a.length).toBeGreaterThan(210 - 60);
    expect(a.length).toBeLessThan(210 + 60);
  });

  it("holds a press while not synced and stamps it on sync", () => {
    const r = rig();
    const n = r.node("A");
    n.start();
    // After setup() has attached the button (560 ms), before the node has synced.
    n.press(600);
    r.sched.runUntil(5000);
    expect(r.of("press")[0]?.at).toBe(600);
    expect(r.of("press")[0]?.stamp).toBeUndefined();
    expect(r.of("held-applied")[0]?.stamp).toEqual({ counter: 1, origin: "A" });
  });
});

describe("a broker that dies", () => {
  it("is retried every reconnect period while nothing listens, and re-synced from RAM when back", () => {
    const r = rig();
    const n = r.node("A");
    n.start();
    r.sched.runUntil(3000);
    n.press(3000);
    r.sched.runUntil(3500);
    r.broker.kill(); // in memory: the retained report is gone with it
    r.sched.runUntil(12_000);
    const failed = r.of("connect-failed");
    // Refused at once each time (a reset to the SYN), not after the 15 s CONNACK timeout.
    expect(failed.length).toBeGreaterThanOrEqual(2);
    expect(failed.every((f) => f.reason === "handshake")).toBe(true);
    const gaps = failed.slice(1).map((f, i) => f.at - (failed[i]?.at ?? 0));
    expect(gaps.every((g) => Math.abs(g - UNO.sketch.reconnectPeriodMs) < 50)).toBe(true);
    r.broker.restart();
    r.sched.runUntil(20_000);
    expect(n.connected).toBe(true);
    // The node put its state back from RAM: the report the broker lost is retained again.
    expect(r.broker.retained.get("tf/report/A")).toBe("R1 1 1 A");
    const [, second] = r.of("synced");
    expect(second?.stamp).toEqual({ counter: 1, origin: "A" });
  });
});

describe("a power cut", () => {
  /** When the press's report reaches the broker, with no power cut: the same seeded run. */
  function arrival(): number {
    const r = rig();
    const n = r.node("A");
    n.start();
    r.sched.runUntil(3000);
    n.press(3000);
    r.sched.runUntil(3100);
    const report = r.broker.publishes("tf-A").find((p) => p.payload === "R1 1 1 A");
    return report?.at ?? Number.NaN;
  }

  it("does not call back a report the W5100 had already sent: the broker keeps the press", () => {
    const arrives = arrival();
    expect(arrives).toBeGreaterThan(3000);
    const r = rig();
    const n = r.node("A");
    n.start();
    r.sched.runUntil(3000);
    n.press(3000);
    // The report is on the cable (it left the W5100, it has not reached the broker) when the power goes.
    r.sched.runUntil(arrives - UNO.network.oneWayLatencyMs / 2);
    n.powerOff();
    r.sched.runUntil(3100);
    expect(r.broker.retained.get("tf/report/A")).toBe("R1 1 1 A");
    n.start();
    r.sched.runUntil(8000);
    // Back with its state: the press was not lost with the RAM.
    expect(n.state.stamp).toEqual({ counter: 1, origin: "A" });
  });

  it("loses a report still being written to the W5100", () => {
    const arrives = arrival();
    const r = rig();
    const n = r.node("A");
    n.start();
    r.sched.runUntil(3000);
    n.press(3000);
    r.sched.runUntil(arrives - UNO.network.oneWayLatencyMs - 0.05);
    n.powerOff();
    r.sched.runUntil(3100);
    expect(r.broker.retained.get("tf/report/A")).toBe("R1 0 0 A");
  });
});

describe("another client with the node's id", () => {
  // The sketch's keepSession() tries at most every TF_RECONNECT_MS, counted from the last attempt,
  // and does not reset that count when an attempt succeeds: a session taken over within the period
  // of its attempt waits for the period's end, one that lived longer is tried again at once.
  it("is fought at most once a reconnect period, counted from the last attempt, as the sketch does", () => {
    const r = rig();
    const attempts: number[][] = [[], []];
    const lost: number[] = [];
    const twins = [0, 1].map(
      (i) =>
        new SimNode({
          id: "A",
          seed: `twin-${i}`,
          profile: UNO,
          sched: r.sched,
          wire: r.broker.wire(),
          sink: (e: NodeEvent) => {
            if (e.type === "connected") attempts[i]?.push(e.attemptAt);
            if (e.type === "disconnected") lost.push(e.at);
          },
        }),
    );
    twins[0]?.start();
    r.sched.runUntil(1000);
    twins[1]?.start();
    r.sched.runUntil(61_000);
    const period = UNO.sketch.reconnectPeriodMs;
    for (const a of attempts) {
      expect(a.length).toBeGreaterThanOrEqual(3);
      const gaps = a.slice(1).map((t, i) => t - (a[i] ?? 0));
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(period);
    }
    // Two boards with one id lose a session each about every period, not at every round trip.
    expect(lost.length).toBeLessThanOrEqual((2 * 60_000) / period + 2);
  });
});
