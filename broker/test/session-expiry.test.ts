/**
 * --session-expiry (broker/session-expiry.ts): a persistent session away longer than the expiry is
 * dropped with what it queued, one away less, or connected, is kept; with a data directory the times
 * outlive a restart. The expiry's clock is a fake one; the broker, its sockets and its store are real.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClassicLevel } from "classic-level";
import { connect, type IConnackPacket, type MqttClient } from "mqtt";
import pino from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { parseBrokerCommandOptions, resolveBrokerOptions } from "../options.js";
import { type RunningBroker, startBroker } from "../server.js";
import { client, closeAll, once } from "./helpers.js";

const T0 = Date.UTC(2026, 0, 1);
const EXPIRY_MS = 60_000;
let broker: RunningBroker | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await broker?.close();
  broker = undefined;
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

interface Started {
  url: string;
  sched: FakeScheduler;
  expired: string[];
}

async function start(dataDir: string | undefined, epochMs = T0): Promise<Started> {
  const expired: string[] = [];
  const logger = pino(
    { level: "info" },
    {
      write: (s: string) => {
        const line = JSON.parse(s) as { msg: string; clientId?: string };
        if (line.msg.startsWith("persistent session expired")) expired.push(line.clientId ?? "?");
      },
    },
  );
  const sched = new FakeScheduler(0, epochMs);
  const opts = { host: "127.0.0.1", port: 0, dataDir, sessionExpiryMs: EXPIRY_MS, scheduler: sched, logger };
  broker = await startBroker(opts);
  return { url: broker.url, sched, expired };
}

async function dataDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "session-expiry-"));
  dirs.push(d);
  return d;
}

/** Closes the client and waits until the broker has let it go (its session is away from then on). */
async function gone(c: MqttClient, clientId: string): Promise<void> {
  await closeAll(c);
  if (broker === undefined) throw new Error("no broker");
  const clients = (broker.aedes as unknown as { clients: Record<string, unknown> }).clients;
  await vi.waitFor(() => expect(clients[clientId]).toBeUndefined());
}

/** A persistent session on `q`, left at once. */
async function leave(url: string, clientId: string): Promise<void> {
  const c = await client(url, { clientId, clean: false });
  await c.subscribeAsync("q", { qos: 1 });
  await gone(c, clientId);
}

async function publish(url: string, texts: string[]): Promise<void> {
  const p = await client(url, { clientId: "pub" });
  for (const t of texts) await p.publishAsync("q", t, { qos: 1 });
  await closeAll(p);
}

/**
 * Comes back with the same persistent session: Session Present, and the queued messages once
 * `expected` of them have come, then a marker's round trip (one more would most likely come before it).
 */
async function comeBack(
  url: string,
  clientId: string,
  expected = 0,
): Promise<{ present: boolean; got: string[] }> {
  const c: MqttClient = connect(url, { clientId, clean: false, reconnectPeriod: 0, protocolVersion: 4 });
  const got: string[] = [];
  c.on("message", (topic, payload) => {
    if (topic === "q") got.push(payload.toString());
  });
  const [connack] = await once<[IConnackPacket]>(c, "connect");
  await vi.waitFor(() => expect(got.length).toBeGreaterThanOrEqual(expected));
  await c.subscribeAsync(`marker/${clientId}`, { qos: 1 });
  const marker = once(c, "message", 5000, (topic) => topic === `marker/${clientId}`);
  await c.publishAsync(`marker/${clientId}`, "m", { qos: 1 });
  await marker;
  await gone(c, clientId);
  return { present: connack.sessionPresent, got };
}

describe.each([
  ["in memory", false],
  ["in LevelDB", true],
])("persistent sessions that expire, %s", (_name, level) => {
  it("drops a session away longer than the expiry with its queue; keeps one away less, and a connected one", async () => {
    const { url, sched, expired } = await start(level ? await dataDir() : undefined);
    await leave(url, "gone");
    await leave(url, "back");
    const stays = await client(url, { clientId: "stays", clean: false });
    await stays.subscribeAsync("q", { qos: 1 });
    await publish(url, ["m0", "m1", "m2"]);
    sched.advance(45_000);
    // Back at 45 s for a moment: away from then on.
    const first = await comeBack(url, "back", 3);
    expect(first).toEqual({ present: true, got: ["m0", "m1", "m2"] });
    await publish(url, ["n0"]);
    sched.advance(16_000);
    await vi.waitFor(() => expect(expired).toEqual(["gone"]));
    expect(await comeBack(url, "gone")).toEqual({ present: false, got: [] });
    expect(await comeBack(url, "back", 1)).toEqual({ present: true, got: ["n0"] });
    // Both away again from their coming back; "stays" connected throughout: never away.
    sched.advance(5 * EXPIRY_MS);
    await vi.waitFor(() => expect(expired.toSorted()).toEqual(["back", "gone", "gone"]));
    expect(stays.connected).toBe(true);
    await closeAll(stays);
    expect(await comeBack(url, "stays")).toMatchObject({ present: true });
  });
});

describe("persistent session expiry across a restart (LevelDB)", () => {
  it("counts a session's time away from its client's leaving, not from the restart", async () => {
    const dir = await dataDir();
    const a = await start(dir);
    await leave(a.url, "gone");
    await publish(a.url, ["m0"]);
    a.sched.advance(40_000);
    await broker?.close();
    // 40 s later on the wall: the check at 30 s after the restart finds it away 70 s.
    const b = await start(dir, T0 + 40_000);
    b.sched.advance(30_000);
    await vi.waitFor(() => expect(b.expired).toEqual(["gone"]));
    await broker?.close();
    const c = await start(dir, T0 + 80_000);
    expect(await comeBack(c.url, "gone")).toEqual({ present: false, got: [] });
  });

  it("gives a session the store held without a time the restart's time", async () => {
    const dir = await dataDir();
    broker = await startBroker({ host: "127.0.0.1", port: 0, dataDir: dir });
    await leave(broker.url, "old");
    await publish(broker.url, ["m0"]);
    await broker.close();
    // A year later, with expiry on: away from now, not from a year ago.
    const b = await start(dir, T0 + 365 * 86_400_000);
    b.sched.advance(45_000);
    expect(await comeBack(b.url, "old", 1)).toEqual({ present: true, got: ["m0"] });
    expect(b.expired).toEqual([]);
  });
  it("counts from the restart a session whose client came and went under a broker without expiry", async () => {
    const dir = await dataDir();
    const a = await start(dir);
    await leave(a.url, "dash");
    await broker?.close();
    // A run without --session-expiry (or a build without it): the client is back and leaves
    // again, with a message queued for it; nothing moves its stored time meanwhile.
    broker = await startBroker({ host: "127.0.0.1", port: 0, dataDir: dir });
    expect(await comeBack(broker.url, "dash")).toEqual({ present: true, got: [] });
    await publish(broker.url, ["m0"]);
    await broker.close();
    // Ten expiries after the first leaving, with expiry on again: away from this start, not from then.
    const c = await start(dir, T0 + 10 * EXPIRY_MS);
    c.sched.advance(45_000);
    await broker?.close(); // waits for the checks under way
    expect(c.expired).toEqual([]);
    const d = await start(dir, T0 + 10 * EXPIRY_MS + 45_000);
    expect(await comeBack(d.url, "dash", 1)).toEqual({ present: true, got: ["m0"] });
  });
});

describe("persistent session expiry when the host's clock steps", () => {
  const DAY = 86_400_000;

  it("neither expires the away sessions at once on a step forward nor holds them on a step back", async () => {
    const { url, sched, expired } = await start(undefined);
    await leave(url, "ahead");
    await publish(url, ["m0"]);
    sched.advance(30_000);
    // NTP sets the clock a month forward: away 30 s, not a month.
    sched.stepWall(30 * DAY);
    sched.advance(20_000);
    expect(expired).toEqual([]);
    expect(await comeBack(url, "ahead", 1)).toEqual({ present: true, got: ["m0"] });
    // An operator puts the clock back an hour: away from its leaving all the same.
    sched.stepWall(-3_600_000);
    sched.advance(61_000);
    await vi.waitFor(() => expect(expired).toEqual(["ahead"]));
  });

  it("stores the times on the set clock: a restart after NTP set a clock that booted in 1970 counts on", async () => {
    const dir = await dataDir();
    const booted = 3 * DAY; // 1970-01-04: a board without a battery-backed clock
    const a = await start(dir, booted);
    await leave(a.url, "tool");
    await publish(a.url, ["m0"]);
    a.sched.advance(20_000);
    a.sched.stepWall(T0 - booted); // NTP: the date is T0 + 20 s now
    a.sched.advance(15_000); // a check: the stored date moves to the new clock
    await broker?.close();
    // 5 s later, on the set clock: away 20 + 15 + 5 s, then 15 s to the next check, 55 s < 60 s.
    const b = await start(dir, T0 + 40_000);
    b.sched.advance(15_000);
    expect(b.expired).toEqual([]);
    expect(await comeBack(b.url, "tool", 1)).toEqual({ present: true, got: ["m0"] });
  });

  it("counts a session stored with a date still to come (the clock put back) as away from the start", async () => {
    const dir = await dataDir();
    const a = await start(dir, T0 + 3_600_000); // the clock ran an hour ahead
    await leave(a.url, "tool");
    await broker?.close();
    const b = await start(dir, T0 + 1_000); // put back, and the broker restarted a second later
    b.sched.advance(45_000);
    expect(b.expired).toEqual([]);
    b.sched.advance(15_000);
    await vi.waitFor(() => expect(b.expired).toEqual(["tool"]));
  });
});

describe("what expiry keeps (LevelDB)", () => {
  it("keeps no time for a persistent session left empty: made-up ids leave nothing behind", async () => {
    const dir = await dataDir();
    const { url } = await start(dir);
    for (let i = 0; i < 20; i++)
      await gone(await client(url, { clientId: `made-up-${i}`, clean: false }), `made-up-${i}`);
    await leave(url, "real");
    await broker?.close();
    broker = undefined;
    const db = new ClassicLevel<string, string>(dir);
    const keys: string[] = [];
    for await (const k of db.keys({ gte: "twinfleet-seen:", lt: "twinfleet-seen;" })) keys.push(k);
    await db.close();
    expect(keys).toEqual(["twinfleet-seen:real"]);
  });
});

describe("--session-expiry", () => {
  it("takes seconds or a unit, from a minute to ten years, and not with Redis", () => {
    const ms = (v: string) => parseBrokerCommandOptions({ sessionExpiry: v }).broker.sessionExpiryMs;
    expect(ms("60")).toBe(60_000);
    expect(ms("90m")).toBe(5_400_000);
    expect(ms("12h")).toBe(43_200_000);
    expect(ms("30d")).toBe(2_592_000_000);
    expect(ms("2w")).toBe(1_209_600_000);
    expect(parseBrokerCommandOptions({}).broker.sessionExpiryMs).toBeUndefined();
    for (const bad of ["59", "0", "1y", "1.5h", "-1d", "3651d", "", " 30d", "30 d", "0x10"])
      expect(() => ms(bad), bad).toThrow(`--session-expiry must be a time from 1 minute to 3650 days`);
    expect(() =>
      parseBrokerCommandOptions({ sessionExpiry: "30d", redis: "redis://127.0.0.1:6379" }),
    ).toThrow("--session-expiry is not for a Redis store");
    expect(() => resolveBrokerOptions({ sessionExpiryMs: 0 })).toThrow("options.sessionExpiryMs");
  });
});
