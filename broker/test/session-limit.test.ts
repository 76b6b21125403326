/**
 * The cap on persistent sessions holding subscriptions (broker/session-limit.ts), over real sockets:
 * past it a new session's SUBSCRIBE gets 0x80 and its client stays connected; clean sessions are not
 * counted; a session the broker holds, back after a disconnect or a restart on its data directory,
 * gets its subscriptions and new ones; a session cleared frees its place.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MqttClient } from "mqtt";
import { pino } from "pino";
import { afterEach, expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../server.js";
import { client, closeAll, nextMessage } from "./helpers.js";

let broker: RunningBroker | undefined;
let dir: string | undefined;
afterEach(async () => {
  await broker?.close();
  broker = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function subscribe(c: MqttClient, topics: string[]): Promise<number[]> {
  try {
    return (await c.subscribeAsync(topics, { qos: 1 })).map((g) => g.qos);
  } catch (err) {
    const suback = (err as { packet?: { granted?: number[] } }).packet;
    if (suback?.granted === undefined) throw err;
    return suback.granted;
  }
}

/** A persistent session `id` that subscribes to `topics` and leaves; the SUBACK's codes. */
async function session(url: string, id: string, topics: string[]): Promise<number[]> {
  const c = await client(url, { clientId: id, clean: false });
  const granted = await subscribe(c, topics);
  await closeAll(c);
  return granted;
}

it("refuses a new persistent session past the cap, keeps the ones it holds, counts no clean session", async () => {
  dir = await mkdtemp(join(tmpdir(), "twinfleet-sessions-"));
  const lines: { msg: string; level: number }[] = [];
  const logger = pino({ level: "info" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  broker = await startBroker({ host: "127.0.0.1", port: 0, dataDir: dir, maxSessions: 3, logger });
  const url = broker.url;
  for (const id of ["s1", "s2", "s3"]) expect(await session(url, id, ["tf/#", "x"])).toEqual([1, 1]);
  // The fourth new session: 0x80 for each filter, the client still connected.
  const fourth = await client(url, { clientId: "s4", clean: false });
  expect(await subscribe(fourth, ["tf/#", "x"])).toEqual([128, 128]);
  expect(fourth.connected).toBe(true);
  await closeAll(fourth);
  expect(lines.filter((l) => l.msg.startsWith("persistent session refused")).map((l) => l.level)).toEqual([
    40,
  ]);
  expect(broker.figures.tally.sessionsRefused).toBe(1);
  // A clean session subscribes as ever.
  const clean = await client(url, { clientId: "c1", clean: true });
  expect(await subscribe(clean, ["tf/#"])).toEqual([1]);
  await closeAll(clean);
  // A held session back: its subscription restored (a QoS 1 message queued while away arrives) and a
  // new filter granted.
  const pub = await client(url, { clientId: "pub" });
  await pub.publishAsync("x", "while away", { qos: 1 });
  const back = await client(url, { clientId: "s2", clean: false });
  expect(await nextMessage(back, "x")).toBe("while away");
  expect(await subscribe(back, ["y"])).toEqual([1]);
  await closeAll(back, pub);
  // Held across a restart on the data directory: the count is the store's.
  await broker.close();
  broker = await startBroker({ host: "127.0.0.1", port: 0, dataDir: dir, maxSessions: 3, logger });
  expect(await session(broker.url, "s5", ["tf/#"])).toEqual([128]);
  expect(await session(broker.url, "s1", ["z"])).toEqual([1]);
  // A session cleared (its client back with a clean session) frees its place once recounted (1 s).
  await closeAll(await client(broker.url, { clientId: "s3", clean: true }));
  await expect.poll(() => session(broker?.url ?? "", "s6", ["tf/#"]), { interval: 300 }).toEqual([1]);
});
