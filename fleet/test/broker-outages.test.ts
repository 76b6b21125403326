// The broker's outages as the run's twins service tells them: each from when the broker was last
// heard from (a silent one is noticed at the keepalive, later), until it is back or the end.
import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { BrokerOutages } from "../broker-outages.js";

describe("BrokerOutages", () => {
  it("spans each outage from the broker's last word, told once each way", () => {
    const twins = new EventEmitter();
    let now = 0;
    const outages = new BrokerOutages(twins, () => now);
    expect(outages.seen).toBe(false);
    now = 25_000;
    // Noticed at 25 s; last heard from at 10 s (frozen, then the keepalive).
    twins.emit("broker", false, 10_000);
    expect(outages.seen).toBe(true);
    expect(outages.downS()).toBe(15);
    now = 26_000;
    twins.emit("broker", false, 25_500); // a second notice of the same outage changes nothing
    now = 40_000;
    twins.emit("broker", true);
    expect(outages.downS()).toBeUndefined();
    now = 50_000;
    // Killed: noticed at once, no last word given.
    twins.emit("broker", false);
    expect(outages.list(60_000)).toEqual([
      { startMs: 10_000, endMs: 40_000, back: true },
      { startMs: 50_000, endMs: 60_000, back: false },
    ]);
  });

  it("ends an outage when the reconnect that got through began, not at its CONNACK", () => {
    const probe = new EventEmitter();
    let now = 10_000;
    const outages = new BrokerOutages(probe, () => now);
    probe.emit("broker", false, 10_000);
    // Started again, its port open at 17,000: the attempt begun at 17,100 got its CONNACK at 17,600,
    // behind the fleet's nodes reconnecting.
    now = 17_600;
    probe.emit("broker", true, 17_100);
    now = 20_000;
    expect(outages.list(now)).toEqual([{ startMs: 10_000, endMs: 17_100, back: true }]);
  });
});
