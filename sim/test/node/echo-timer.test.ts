/**
 * The echo timer alone (first copy timed, bounded memory) and the board's `echo` event on fake time:
 * each own report the node publishes is timed until its loop reads the broker's copy back.
 */
import { describe, expect, it } from "vitest";
import { EchoTimer } from "../../../node/echo-timer.js";
import { NodeId } from "../../../protocol/index.js";
import { rig, UNO } from "./helpers.js";

const A = NodeId("A");

describe("EchoTimer", () => {
  it("times a report from its first copy and forgets it once echoed", () => {
    const e = new EchoTimer();
    e.sent("R1 1 5 A", 10, { counter: 5, origin: A });
    e.sent("R1 1 5 A", 20, { counter: 5, origin: A }); // a repeat: TCP order says the first copy comes back first
    expect(e.echoed("R1 1 5 A")).toEqual({ at: 10, stamp: { counter: 5, origin: A } });
    expect(e.echoed("R1 1 5 A")).toBeUndefined();
    expect(e.echoed("R1 0 6 A")).toBeUndefined();
  });

  it("remembers the newest 64 reports and drops the oldest beyond them", () => {
    const e = new EchoTimer();
    for (let i = 1; i <= 65; i++) e.sent(`R1 1 ${i} A`, i, { counter: i, origin: A });
    expect(e.echoed("R1 1 1 A")).toBeUndefined();
    expect(e.echoed("R1 1 2 A")?.at).toBe(2);
    expect(e.echoed("R1 1 65 A")?.at).toBe(65);
  });
});

describe("the board's echo event", () => {
  it("times each press's report from its publish until the loop reads the broker's copy", () => {
    const { sched, of, node } = rig();
    const n = node("A");
    n.start();
    sched.runUntil(3000);
    expect(of("synced")).toHaveLength(1);
    const before = of("echo").length; // the sync's own report
    n.press(5000);
    n.press(6000);
    sched.runUntil(7000);
    const presses = of("press");
    const echoes = of("echo").slice(before);
    expect(echoes.map((e) => e.stamp)).toEqual(presses.map((p) => p.stamp));
    for (const [i, e] of echoes.entries()) {
      const press = presses[i];
      if (press === undefined) throw new Error("an echo without its press");
      // Published by the interrupt, after its LED write; read back after a round trip on the LAN.
      expect(e.publishedAt).toBeGreaterThan(press.ledAt);
      expect(e.publishedAt).toBeLessThan(press.at + 2);
      expect(e.at - e.publishedAt).toBeGreaterThanOrEqual(2 * UNO.network.oneWayLatencyMs);
      expect(e.at - e.publishedAt).toBeLessThan(2 * UNO.network.oneWayLatencyMs + 2);
    }
  });
});
