/**
 * The live-fleet source over the twins service: the broker's faults as the view tells them — a lost
 * or silent broker, one not reached yet, and why its reconnects fail (twins-source.test.ts: the rest).
 */
import { describe, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { TwinsSource } from "../twins-source.js";
import { FakeTwins } from "./fake-twins.js";

describe("twins source: the broker's faults", () => {
  it("shows a lost broker connection as a fault under way, and says when it goes and comes back", () => {
    const t = new FakeTwins();
    const sched = new FakeScheduler(1000);
    const s = new TwinsSource(t, "mqtt://x", sched);
    const lines: string[] = [];
    s.on("log", (l) => lines.push(`${l.level} ${l.text}`));
    expect(s.faults()).toEqual([]);
    sched.advance(500);
    t.emit("broker", false);
    expect(s.faults()).toEqual([{ what: "broker connection lost", since: 1500 }]);
    // The chart is told of the outage under way, and of it once over: nothing was heard then.
    expect(s.convergence().away).toEqual([{ from: 1500 }]);
    sched.advance(4000);
    t.emit("broker", true);
    expect(s.faults()).toEqual([]);
    expect(s.convergence().away).toEqual([{ from: 1500, to: 5500 }]);
    expect(lines).toEqual([
      "warn broker connection lost: what is shown is as it was, until it is back",
      "info broker connection back",
    ]);
  });

  it("shows a silent broker as a fault since it was last heard, the connection dropping after as the same outage", () => {
    const t = new FakeTwins();
    const sched = new FakeScheduler(1000);
    const s = new TwinsSource(t, "mqtt://x", sched);
    const lines: string[] = [];
    s.on("log", (l) => lines.push(`${l.level} ${l.text}`));
    sched.advance(6000);
    t.emit("broker", false, 2000, "silent");
    expect(s.faults()).toEqual([{ what: "broker silent", since: 2000 }]);
    sched.advance(12_000);
    t.emit("broker", false, 2000, "lost"); // the keepalive ran out meanwhile
    expect(s.faults()).toEqual([{ what: "broker connection lost", since: 2000 }]);
    t.emit("broker", true);
    expect(s.faults()).toEqual([]);
    // One outage for the chart, from when the broker was last heard.
    expect(s.convergence().away).toEqual([{ from: 2000, to: 19_000 }]);
    expect(lines).toEqual([
      "warn broker silent (connected, nothing heard for 5 s): what is shown is as it was, until it answers",
      "warn broker connection lost: what is shown is as it was, until it is back",
      "info broker connection back",
    ]);
  });

  it("shows a broker not reached yet (a service waiting for it) as a fault since the service started, in /healthz's words, until reached", () => {
    const t = new FakeTwins();
    const sched = new FakeScheduler(1000);
    const url = "mqtt://127.0.0.1:1883";
    const waiting: { broker: string; since: number; cause?: string } | undefined = {
      broker: url,
      since: 1000,
    };
    const w = Object.assign(t, { waiting: waiting as typeof waiting | undefined });
    // Told before the view opened (or not yet told): the view starts from `waiting`.
    const s = new TwinsSource(w, "mqtt://x", sched);
    const lines: string[] = [];
    s.on("log", (l) => lines.push(`${l.level} ${l.text}`));
    expect(s.faults()).toEqual([{ what: "broker not reached yet", since: 1000 }]);
    expect(s.health()).toBe(`connecting to the broker at ${url}: not reached yet`);
    sched.advance(2000);
    w.waiting = { broker: url, since: 1000, cause: `cannot reach the broker at ${url}: connection refused` };
    t.emit("broker", false, undefined, "unreached");
    expect(s.faults()).toEqual([{ what: "broker not reached yet", since: 1000 }]);
    expect(s.health()).toBe(
      `not connected since start (2 s): cannot reach the broker at ${url}: connection refused; trying again`,
    );
    sched.advance(3000);
    w.waiting = undefined;
    t.emit("broker", true);
    expect(s.faults()).toEqual([]);
    expect(s.health()).toBeUndefined();
    // Nothing was heard before it either: no outage for the chart, no share held on through it.
    expect(s.convergence().away).toEqual([]);
    expect(lines).toEqual([
      `warn broker not reached yet (cannot reach the broker at ${url}: connection refused): the nodes are shown as last stored, until it answers`,
      "info broker reached",
    ]);
  });

  it("says a broker not reached yet leaves nothing shown where the service has no node stored (a monitor's)", () => {
    const t = new FakeTwins();
    t.twins.clear();
    const s = new TwinsSource(t, "mqtt://x", new FakeScheduler(1000));
    const lines: string[] = [];
    s.on("log", (l) => lines.push(`${l.level} ${l.text}`));
    t.emit("broker", false, undefined, "unreached");
    expect(lines).toEqual([
      "warn broker not reached yet (connecting): no node is known (nothing stored): they are shown once it answers",
    ]);
  });

  it("gives /healthz why a lost broker's reconnects fail, once one has (a broker closing them at once)", () => {
    const t = Object.assign(new FakeTwins(), { lostCause: undefined as string | undefined });
    const sched = new FakeScheduler(1000);
    const s = new TwinsSource(t, "mqtt://x", sched);
    t.emit("broker", false, 1000, "lost");
    sched.advance(2000);
    expect(s.health()).toBe(
      "the broker connection has been lost for 2 s: the nodes are shown as they were, until it is back",
    );
    const closed =
      "cannot reach the broker at mqtt://x: it closed the connection at once, before its CONNACK (…)";
    t.lostCause = closed;
    expect(s.health()).toBe(
      `the broker connection has been lost for 2 s: the nodes are shown as they were, until it is back; reconnecting: ${closed}`,
    );
  });
});

describe("twins source: the service's own re-read of the broker's state", () => {
  it("shows the share from before it while its held points last, marked held, then the one measured", () => {
    const t = new FakeTwins();
    const s = new TwinsSource(t, "mqtt://x", new FakeScheduler(1000));
    const before = { t: 1, fraction: 1, inSync: 1, known: 1 };
    // The re-read under way: the service measures 0 of 1 (its view half refreshed), its point holds 1 of 1.
    t.history = () => [before, { ...before, t: 2, held: true }];
    t.emit("convergence", t.convergence());
    expect(s.convergence()).toMatchObject({ fraction: 1, inSync: 1, known: 1, held: true });
    // Over: the share measured after it, whatever it is.
    t.history = () => [before, { ...before, t: 2, held: true }, { t: 3, fraction: 0, inSync: 0, known: 1 }];
    const after = s.convergence();
    expect(after).toMatchObject({ fraction: 0, inSync: 0, known: 1 });
    expect(after.held).toBeUndefined();
  });
});
