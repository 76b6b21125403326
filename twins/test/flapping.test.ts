/**
 * A twin that keeps going offline and coming back (two clients with one id taking each other's
 * session over, each takeover publishing the older one's will): told once, as a warning and an event.
 */
import mqtt from "mqtt";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { NodeId } from "../../protocol/index.js";
import { FLAP_WINDOW_MS, flapLine, flapWatch } from "../flapping.js";
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
