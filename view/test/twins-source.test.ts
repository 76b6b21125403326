/**
 * The live-fleet source over the twins service (a stand-in with the service's shape): nodes and
 * sync status from the registry, latency from reports seen, faults under way and the log (its
 * commands: twins-commands.test.ts).
 */
import { describe, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { NodeId } from "../../protocol/index.js";
import { flapLine } from "../../twins/index.js";
import { FLAP_SHOWN_MS } from "../live-faults.js";
import { TwinsSource } from "../twins-source.js";
import { a, b, FakeTwins, twin } from "./fake-twins.js";

describe("twins source", () => {
  it("shows the registry's nodes with their sync status, identity and pairing", () => {
    const t = new FakeTwins();
    const s = new TwinsSource(t, "mqtt://x", new FakeScheduler(1000));
    expect(s.nodes()).toEqual([
      { id: a, kind: "real", on: true, online: true, sync: "unknown", version: 1 },
      { id: b, kind: "sim", on: false, online: false, sync: "out-of-sync", version: 1 },
    ]);
    expect(s.detail(b)).toMatchObject({
      follows: [a],
      followers: [],
      identity: "uno-w5100 fw 1.0.0 2 bad inputs",
      desired: { pending: false, pairingPending: false },
    });
    // A pairing written for it on the broker while it is offline: pending until the node confirms.
    t.twins.set(b, twin(b, { follows: [a], presence: "offline", pairing: "pending" }));
    expect(s.detail(b)?.desired).toMatchObject({ pending: true, pairingPending: true });
    expect(s.convergence()).toMatchObject({
      fraction: 0,
      inSync: 0,
      known: 1,
      history: [{ t: 1, fraction: 0 }],
    });
    expect(s.lossPct()).toBeUndefined();
  });

  it("gives a node's last message from the fleet's start, as registration, and as a date", () => {
    const t = new FakeTwins();
    // A standalone twins service: its clock reads the date (ms since the Unix epoch), started at 12:00:00.
    const start = Date.UTC(2026, 11, 5, 12, 0, 0);
    const sched = new FakeScheduler(start, 0);
    const s = new TwinsSource(t, "mqtt://x", sched);
    t.twins.set(a, twin(a, { lastSeen: start + 90_500, registeredAt: start + 2_000 }));
    sched.advance(100_000);
    expect(s.detail(a)).toMatchObject({
      lastSeen: 90_500,
      registeredAt: 2_000,
      lastSeenAt: "2026-12-05T12:01:30.500Z",
      lastSeenAge: 9_500,
    });
    // Heard before the service started (its --data kept the date): before the start, and its true age.
    t.twins.set(a, twin(a, { lastSeen: start - 30_000 }));
    expect(s.detail(a)).toMatchObject({
      lastSeen: -30_000,
      lastSeenAt: "2026-12-05T11:59:30.000Z",
      lastSeenAge: 130_000,
    });
    // A run's clock from 0, its dates from when it started.
    const run = new FakeScheduler(0, start);
    const r = new TwinsSource(t, "mqtt://x", run);
    t.twins.set(a, twin(a, { lastSeen: 4_000 }));
    run.advance(6_000);
    expect(r.detail(a)).toMatchObject({
      lastSeen: 4_000,
      lastSeenAt: "2026-12-05T12:00:04.000Z",
      lastSeenAge: 2_000,
    });
  });

  it("drops a twin the service forgot to make room, and says so", () => {
    const t = new FakeTwins();
    const s = new TwinsSource(t, "mqtt://x", new FakeScheduler(1000));
    const lines: string[] = [];
    s.on("log", (l) => lines.push(`${l.level} ${l.text}`));
    expect(s.nodes().map((n) => n.id)).toEqual([a, b]);
    t.twins.delete(a);
    t.emit("twin-forgotten", a, "room");
    expect(s.nodes().map((n) => n.id)).toEqual([b]);
    expect(s.detail(b)).toBeDefined();
    expect(lines).toContain(
      "warn a forgotten to make room (--max-nodes): offline, nothing desired, no pairing",
    );
  });

  it("marks the view changed on service events and times an event from origin to follower", () => {
    const t = new FakeTwins();
    const sched = new FakeScheduler(1000);
    const s = new TwinsSource(t, "mqtt://x", sched);
    let changes = 0;
    const lines: string[] = [];
    s.on("changed", () => changes++);
    s.on("log", (l) => lines.push(l.text));
    s.focus(b);
    const stamp = { counter: 4, origin: a };
    t.emit("twin-updated", twin(a, { reported: { on: false, stamp } }), "report");
    sched.advance(180);
    t.emit("twin-updated", twin(b, { reported: { on: false, stamp } }), "report");
    t.emit("twin-offline", twin(a));
    expect(changes).toBe(3);
    expect(s.latency()).toMatchObject({ count: 1, p50Ms: 180 });
    expect(s.detail(b)?.lastMessages).toEqual(["00:00:01 report 0 4@a"]);
    expect(lines).toContain("a offline");
    s.close();
    t.emit("twin-offline", twin(a));
    expect(changes).toBe(3);
  });

  it("shows a desired state the service cannot save as a fault, from when its saves began failing", () => {
    const t = Object.assign(new FakeTwins(), { unsavedSince: undefined as number | undefined });
    const s = new TwinsSource(t, "mqtt://x", new FakeScheduler(5000));
    expect(s.faults()).toEqual([]);
    t.unsavedSince = 3000;
    expect(s.faults()).toEqual([{ what: "desired state not saved (disk full or read-only?)", since: 3000 }]);
    t.unsavedSince = undefined;
    expect(s.faults()).toEqual([]);
  });

  it("gives /healthz the data directory and the error while saves fail, beside a lost broker, until one is saved", () => {
    const t = Object.assign(new FakeTwins(), {
      unsavedSince: undefined as number | undefined,
      unsavedCause: undefined as string | undefined,
    });
    const sched = new FakeScheduler(5000);
    const s = new TwinsSource(t, "mqtt://x", sched);
    expect(s.health()).toBeUndefined();
    t.unsavedSince = 3000;
    t.unsavedCause =
      "data directory /data cannot be written (EROFS: read-only file system, open '/data/twins.journal')";
    const unsaved = `${t.unsavedCause}: for 2 s what changes is held in memory only, and a restart now loses it`;
    expect(s.health()).toBe(unsaved);
    t.emit("broker", false, 5000, "lost");
    sched.advance(1000);
    expect(s.health()).toBe(
      `the broker connection has been lost for 1 s: the nodes are shown as they were, until it is back; and ${unsaved.replace("2 s", "3 s")}`,
    );
    t.emit("broker", true);
    t.unsavedSince = undefined;
    t.unsavedCause = undefined;
    expect(s.health()).toBeUndefined();
  });

  it("shows a service that has seen no node as a fault, from its warning until a node is seen", () => {
    const t = Object.assign(new FakeTwins(), {
      fleetUnseen: undefined as { since: number; what: string } | undefined,
    });
    const s = new TwinsSource(t, "mqtt://x", new FakeScheduler(30_000));
    expect(s.faults()).toEqual([]);
    t.fleetUnseen = { since: 24_500, what: "no node on prefix lab (nodes under tf)" };
    expect(s.faults()).toEqual([{ what: "no node on prefix lab (nodes under tf)", since: 24_500 }]);
    t.fleetUnseen = undefined;
    expect(s.faults()).toEqual([]);
  });

  it("shows another twins service on the fleet as a fault from when one first came, and logs each change", () => {
    const t = new FakeTwins();
    const sched = new FakeScheduler(1000);
    const s = new TwinsSource(t, "mqtt://x", sched);
    const lines: string[] = [];
    s.on("log", (l) => lines.push(`${l.level} ${l.text}`));
    t.emit("other-services", [{ clientId: "tf-twins-b", since: 5 }]);
    sched.advance(500);
    t.emit("other-services", [{ clientId: "tf-twins-b" }, { clientId: "tf-twins-c" }]);
    expect(s.faults()).toEqual([
      { what: "another twins service controls this fleet too (tf-twins-b, tf-twins-c)", since: 1000 },
    ]);
    t.emit("other-services", []);
    expect(s.faults()).toEqual([]);
    expect(lines).toEqual([
      "warn another twins service controls this fleet too: tf-twins-b",
      "warn another twins service controls this fleet too: tf-twins-b, tf-twins-c",
      "info no other twins service on the fleet any more",
    ]);
  });

  it("logs an operator's pairing that another control tool's replaced, with what the node follows now", () => {
    const t = new FakeTwins();
    const s = new TwinsSource(t, "mqtt://x", new FakeScheduler(1000));
    const lines: string[] = [];
    s.on("log", (l) => lines.push(`${l.level} ${l.text}`));
    // The console paired b with a while b was offline; a `sim` starting wrote b's ring config over it.
    const now = twin(b, {
      presence: "offline",
      pairing: "pending",
      desired: { sources: [b], configVersion: 3 },
    });
    t.emit("pairing-replaced", now, [a], [{ clientId: "tf-twins-c" }]);
    t.emit("pairing-replaced", twin(b, { desired: { sources: [], configVersion: 4 } }), [b], []);
    expect(lines).toEqual([
      "warn the pairing of b was replaced by another control tool's, written for it while it is away: it follows b once it returns (this service had a); another twins service controls this fleet (tf-twins-c): the last command the node carries out stands",
      "info the pairing of b was replaced by another control tool's, carried out by the node: it follows nobody now (this service had b)",
    ]);
  });

  it("shows the nodes told as flapping as one fault for five minutes, and logs each", () => {
    const t = new FakeTwins();
    const sched = new FakeScheduler(1000);
    const s = new TwinsSource(t, "mqtt://x", sched);
    const lines: string[] = [];
    s.on("log", (l) => lines.push(`${l.level} ${l.text}`));
    t.emit("twin-flapping", twin(a), 400);
    sched.advance(1000);
    t.emit("twin-flapping", twin(b), 900);
    expect(s.faults()).toEqual([
      { what: "2 flapping (another client with the same id?): a, b", since: 1000 },
    ]);
    expect(lines).toEqual([`warn ${flapLine(a, 400)}`, `warn ${flapLine(b, 900)}`]);
    sched.advance(FLAP_SHOWN_MS - 500);
    expect(s.faults()).toEqual([{ what: "1 flapping (another client with the same id?): b", since: 2000 }]);
    sched.advance(1000);
    expect(s.faults()).toEqual([]);
  });

  it("keeps each node's summary from the events, and names the nodes whose summary changed", () => {
    const t = new FakeTwins();
    const s = new TwinsSource(t, "mqtt://x", new FakeScheduler(1000));
    expect(s.node(b)).toMatchObject({ sync: "out-of-sync", online: false });
    const named: string[] = [];
    s.on("node", (id) => named.push(id));
    t.emit("twin-online", twin(b, { kind: "sim", follows: [a], version: 9 }));
    expect(s.node(b)).toMatchObject({ online: true, version: 9 });
    t.emit("convergence", {
      followers: [{ id: b, status: "in-sync", stamp: undefined, target: undefined, waitingOn: [] }],
      inSync: 1,
      known: 1,
      fraction: 1,
    });
    expect(s.node(b)?.sync).toBe("in-sync");
    expect(s.convergence()).toMatchObject({ fraction: 1, inSync: 1 });
    // A convergence report that changes no follower's sync names nobody.
    t.emit("convergence", {
      followers: [{ id: b, status: "in-sync", stamp: undefined, target: undefined, waitingOn: [] }],
      inSync: 1,
      known: 1,
      fraction: 1,
    });
    expect(named).toEqual(["b", "b"]);
    // A node not seen before: the list is rebuilt from the registry, in id order.
    const c = NodeId("c");
    t.twins.set(c, twin(c, { version: 1 }));
    t.emit("twin-registered", twin(c, { version: 1 }), true, false);
    expect(s.nodes().map((n) => n.id)).toEqual(["a", "b", "c"]);
    expect(s.node(c)?.version).toBe(1);
    s.close();
  });

  it("carries a burst of convergence reports into the nodes' sync once, when the view is read", () => {
    // A fleet on virtual time sends a report every 100 ms of its own time: hundreds per wall frame.
    const t = new FakeTwins();
    const s = new TwinsSource(t, "mqtt://x", new FakeScheduler(1000));
    expect(s.node(b)?.sync).toBe("out-of-sync");
    const named: string[] = [];
    s.on("node", (id) => named.push(id));
    const report = (status: "in-sync" | "behind") => ({
      followers: [
        { id: b, status, stamp: undefined, target: undefined, waitingOn: status === "behind" ? [a] : [] },
      ],
      inSync: status === "in-sync" ? 1 : 0,
      known: 1,
      fraction: status === "in-sync" ? 1 : 0,
    });
    for (let i = 0; i < 100; i++) t.emit("convergence", report(i % 2 === 0 ? "in-sync" : "behind"));
    // Ending where it began: no pass was made, and none is owed.
    expect(named).toEqual([]);
    expect(s.node(b)?.sync).toBe("out-of-sync");
    expect(named).toEqual([]);
    for (let i = 0; i < 99; i++) t.emit("convergence", report(i % 2 === 0 ? "in-sync" : "behind"));
    expect(named).toEqual([]);
    // The reader that goes by `node` events settles the view first (web/events.ts): one event.
    s.settle();
    expect(named).toEqual(["b"]);
    expect(s.node(b)?.sync).toBe("in-sync");
    expect(s.convergence()).toMatchObject({ fraction: 1, inSync: 1 });
    expect(named).toEqual(["b"]);
    s.close();
  });

  it("dates each twin change with the wall time the view learned of it; a sync move keeps the date", () => {
    const t = new FakeTwins();
    const sched = new FakeScheduler(1000);
    const s = new TwinsSource(t, "mqtt://x", sched);
    expect(s.node(a)?.changedAt).toBeUndefined();
    sched.advance(250);
    t.emit("twin-updated", twin(a, { version: 4 }), "report");
    expect(s.node(a)?.changedAt).toBe(sched.wallNow());
    const at = sched.wallNow();
    sched.advance(100);
    t.emit("convergence", {
      followers: [{ id: b, status: "in-sync", stamp: undefined, target: undefined, waitingOn: [] }],
      inSync: 1,
      known: 1,
      fraction: 1,
    });
    t.emit("twin-online", twin(b, { kind: "sim", follows: [a], version: 9 }));
    expect(s.node(a)?.changedAt).toBe(at);
    expect(s.node(b)?.changedAt).toBe(at + 100);
    s.close();
  });
});

it("counts the judged followers online, so a fleet all offline is not read as in sync", () => {
  const t = new FakeTwins();
  const s = new TwinsSource(t, "mqtt://x");
  const allIn = {
    followers: [{ id: b, status: "in-sync" as const, stamp: undefined, target: undefined, waitingOn: [] }],
    inSync: 1,
    known: 1,
    fraction: 1,
  };
  // b, the one follower, is offline: the report judges it by its last report (1 of 1 in sync).
  t.emit("convergence", allIn);
  expect(s.convergence()).toMatchObject({ fraction: 1, inSync: 1, known: 1, online: 0 });
  const online = twin(b, { kind: "sim", follows: [a] });
  t.twins.set(b, online);
  t.emit("twin-online", online);
  t.emit("twin-updated", online, "presence");
  expect(s.convergence().online).toBe(1);
  const offline = twin(b, { kind: "sim", follows: [a], presence: "offline" });
  t.twins.set(b, offline);
  t.emit("twin-offline", offline);
  t.emit("twin-updated", offline, "presence");
  expect(s.convergence()).toMatchObject({ fraction: 1, online: 0 });
});

it("marks in the list what waits for a node while it is offline: a kept set, a pairing, or both", async () => {
  const t = new FakeTwins();
  const s = new TwinsSource(t, "mqtt://x");
  expect(s.node(b)?.waits).toBeUndefined();
  const kept = { sources: [a], configVersion: 1, pendingSet: { on: true, counter: 4 } };
  const away = twin(b, { follows: [a], presence: "offline", desired: kept });
  t.emit("twin-updated", away, "desired");
  expect(s.node(b)).toMatchObject({ online: false, waits: "set" });
  // A pairing pending that changes nothing it follows (a service with no store, started while it was
  // away) is not marked; one that does is.
  t.emit("twin-updated", { ...away, pairing: "pending" }, "desired");
  expect(s.node(b)?.waits).toBe("set");
  const more = { ...kept, sources: [NodeId("c"), a] };
  t.emit("twin-updated", { ...away, pairing: "pending", desired: more }, "desired");
  expect(s.node(b)?.waits).toBe("set and pairing");
  t.emit(
    "twin-updated",
    { ...away, pairing: "pending", desired: { sources: [], configVersion: 2 } },
    "desired",
  );
  expect(s.node(b)?.waits).toBe("pairing");
  // One this view stored is marked whatever the broker's copy says (a node that never published its own).
  t.twins.set(b, { ...away, desired: { sources: [a], configVersion: 3 }, pairing: "pending" });
  await s.unpair(b, a);
  expect(s.node(b)?.waits).toBe("pairing");
  // Online, what is sent to it is on its way: nothing is marked.
  t.emit("twin-online", twin(b, { follows: [a], desired: kept, pairing: "pending" }));
  expect(s.node(b)?.waits).toBeUndefined();
});

/**
 * The broker's outages come from the service, which keeps them in its history file: the view's own,
 * held in memory from the events it heard, started empty at each restart of the service.
 */
it("serves the service's broker outages, those kept from before a restart among them", () => {
  const kept = [{ from: 100, to: 900 }];
  const t = Object.assign(new FakeTwins(), { away: () => kept });
  const s = new TwinsSource(t, "mqtt://x", new FakeScheduler(1000));
  expect(s.convergence().away).toEqual(kept);
  // A service without them (a fleet run's host of restarting services): the view's own.
  const host = new FakeTwins();
  const v = new TwinsSource(host, "mqtt://x", new FakeScheduler(1000));
  host.emit("broker", false, 500, "lost");
  expect(v.convergence().away).toEqual([{ from: 1000 }]);
});
