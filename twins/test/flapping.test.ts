/**
 * A twin that keeps going offline and coming back (two clients with one id taking each other's
 * session over, each takeover publishing the older one's will): told once, as a warning and an event.
 */
import mqtt from "mqtt";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { NodeId } from "../../protocol/index.js";
import { FLAP_WINDOW_MS, FlapLog, flapLine, flapWatch } from "../flapping.js";
import { Fixtures, until } from "./helpers.js";

const N = NodeId("n-0005");

describe("flapWatch", () => {
  it("tells a node gone offline three times within the window, then not again for a while", () => {
    const f = flapWatch();
    expect(f.hit(N, 1000)).toBeUndefined();
    expect(f.hit(N, 2000)).toBeUndefined();
    expect(f.hit(N, 3500)).toBe(2500);
    expect(f.hit(N, 4000)).toBeUndefined();
    expect(f.hit(N, 400_000)).toBeUndefined();
    expect(f.hit(N, 401_000)).toBeUndefined();
    expect(f.hit(N, 402_000)).toBe(2000);
  });

  it("does not tell offlines spread wider than the window (a board unplugged now and then)", () => {
    const f = flapWatch();
    for (let i = 0; i < 6; i++) expect(f.hit(N, i * (FLAP_WINDOW_MS / 2 + 1))).toBeUndefined();
  });
});

describe("FlapLog", () => {
  it("names the first 5 nodes of a minute one by one and sums the rest in one warning at its end", () => {
    const sched = new FakeScheduler(0);
    const lines: { msg: string; nodes?: number; first?: string[] }[] = [];
    const log = new FlapLog(
      pino({ level: "warn" }, { write: (s: string) => void lines.push(JSON.parse(s)) }),
      sched,
    );
    const ids = Array.from({ length: 40 }, (_, i) => NodeId(`n-${String(i).padStart(4, "0")}`));
    for (const id of ids) {
      log.told(id, 2500);
      sched.advance(100);
    }
    expect(lines.map((l) => l.msg)).toEqual(ids.slice(0, 5).map((id) => `twins: ${flapLine(id, 2500)}`));
    sched.advance(60_000 - 4000 - 1);
    expect(lines).toHaveLength(5);
    sched.advance(1);
    expect(lines).toHaveLength(6);
    expect(lines[5]).toMatchObject({ nodes: 35, first: ids.slice(5, 15) });
    expect(lines[5]?.msg).toMatch(
      /^twins: 35 more nodes went offline 3 times within 30 s in the minute, besides the 5 named one by one \(first n-0005, n-0006, .*, n-0014\)/,
    );
    // A new minute names its first ones again.
    log.told(NodeId("n-0100"), 1000);
    expect(lines[6]?.msg).toBe(`twins: ${flapLine(NodeId("n-0100"), 1000)}`);
  });

  it("writes the summary under way when the service closes", () => {
    const sched = new FakeScheduler(0);
    const lines: { nodes?: number }[] = [];
    const log = new FlapLog(
      pino({ level: "warn" }, { write: (s: string) => void lines.push(JSON.parse(s)) }),
      sched,
    );
    for (let i = 0; i < 7; i++) log.told(NodeId(`n-${i}`), 1000);
    log.flush();
    expect(lines).toHaveLength(6);
    expect(lines[5]).toMatchObject({ nodes: 2 });
    sched.advance(60_000);
    expect(lines).toHaveLength(6);
  });
});

const fx = new Fixtures();
afterEach(() => fx.close());

it("the service warns once when a node's status flips offline and online again and again", async () => {
  await fx.broker();
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: "warn" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  const twins = await fx.twins({ logger });
  const told: [string, number][] = [];
  twins.on("twin-flapping", (t, ms) => told.push([t.id, ms]));
  const c = fx.track(await mqtt.connectAsync(fx.url), (x) => x.endAsync());
  for (let i = 0; i < 4; i++) {
    await c.publishAsync("tf/status/n-0005", "T1 1", { qos: 1, retain: true });
    await c.publishAsync("tf/status/n-0005", "T1 0", { qos: 1, retain: true });
  }
  await until(() => twins.get("n-0005")?.presence === "offline" && told.length > 0, "told");
  expect(told).toEqual([["n-0005", expect.any(Number)]]);
  expect(lines.filter((l) => l.msg.includes("went offline"))).toEqual([
    expect.objectContaining({ msg: `twins: ${flapLine(N, told[0]?.[1] ?? 0)}` }),
  ]);
});

it("keeps no offline times of a node forgotten to make room (ids that come once and go)", async () => {
  await fx.broker();
  const maxNodes = 5;
  const twins = await fx.twins({ maxNodes });
  const forgotten: string[] = [];
  twins.on("twin-forgotten", (id) => forgotten.push(id));
  const c = fx.track(await mqtt.connectAsync(fx.url), (x) => x.endAsync());
  const cycles = 60;
  for (let i = 0; i < cycles; i++) {
    await c.publishAsync(`tf/status/m-${i}`, "T1 1", { qos: 1 });
    await c.publishAsync(`tf/status/m-${i}`, "T1 0", { qos: 1 });
  }
  await until(() => twins.get(`m-${cycles - 1}`)?.presence === "offline", "the last one offline");
  expect(forgotten).toHaveLength(cycles - maxNodes);
  // The offlines followed per node (the flapping watch): the twins kept, not every id ever seen.
  const flaps = (twins as unknown as { flaps: { size: number } }).flaps;
  expect(flaps.size).toBeLessThanOrEqual(maxNodes);
});
