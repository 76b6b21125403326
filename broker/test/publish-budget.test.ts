/**
 * One client's flood of publishes, over real sockets, against another client's round trip: the
 * broker hands a connection's publishes to aedes a few at a time (broker/publish-budget.ts), so a
 * message published right after a flood's bytes reaches a subscriber long before the flood's end;
 * past its budget the flood is read later, nothing dropped and in order. Judged by order and counts.
 */
import type { Socket } from "node:net";
import type { MqttClient } from "mqtt";
import { afterEach, expect, it } from "vitest";
import type { BrokerOptions } from "../options.js";
import { PUBLISHES_PER_READ } from "../publish-budget.js";
import { type RunningBroker, startBroker } from "../server.js";
import { client, closeAll, connectPacket, once, packet, rawSocket } from "./helpers.js";

const FLOOD = 3000;

let broker: RunningBroker | undefined;
let sockets: Socket[] = [];
let clients: MqttClient[] = [];
afterEach(async () => {
  for (const s of sockets) s.destroy();
  await closeAll(...clients);
  await broker?.close();
  broker = undefined;
  sockets = [];
  clients = [];
});

async function start(options: BrokerOptions = {}): Promise<RunningBroker> {
  broker = await startBroker({ host: "127.0.0.1", port: 0, ...options });
  return broker;
}

/** A raw client past its CONNACK. */
async function rawClient(b: RunningBroker, id: string): Promise<Socket> {
  const s = await rawSocket(b.port);
  sockets.push(s);
  s.on("error", () => {});
  s.write(connectPacket(id));
  await once(s, "data");
  return s;
}

/** `count` QoS 0 publishes on `topic`, payloads 0 … count-1, as one write. */
function flood(count: number, topic: string): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < count; i++)
    parts.push(packet({ cmd: "publish", topic, payload: String(i), qos: 0, dup: false, retain: false }));
  return Buffer.concat(parts);
}

/** A subscriber to `#` recording every message it gets, in order. */
async function recorder(b: RunningBroker): Promise<string[]> {
  const seen: string[] = [];
  const c = await client(b.url, { clientId: "recorder" });
  clients.push(c);
  await c.subscribeAsync("#", { qos: 0 });
  c.on("message", (topic, payload) => seen.push(`${topic} ${payload.toString()}`));
  return seen;
}

async function until(check: () => boolean, what: string, ms = 60_000): Promise<void> {
  for (let waited = 0; !check(); waited += 10) {
    if (waited > ms) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

it("delivers a message published right after a flood's bytes long before the flood's end", async () => {
  const b = await start();
  const seen = await recorder(b);
  const flooder = await rawClient(b, "flooder");
  const other = await rawClient(b, "other");
  flooder.write(flood(FLOOD, "flood"));
  // Written once the flood's bytes are in the broker's hands: its first delivery has been seen.
  await until(() => seen.length > 0, "the flood's first delivery");
  other.write(
    packet({ cmd: "publish", topic: "other", payload: "hello", qos: 0, dup: false, retain: false }),
  );
  await until(() => seen.includes("other hello"), "the other client's message");
  const at = seen.indexOf("other hello");
  // Before, aedes was handed everything one socket read held (thousands of publishes) and handled
  // it all before the next connection's packets: the other client's message came after the flood.
  expect(at).toBeLessThan(FLOOD / 2);
  await until(() => seen.length === FLOOD + 1, "the whole flood");
  const floodSeen = seen.filter((m) => m.startsWith("flood "));
  expect(floodSeen).toEqual(Array.from({ length: FLOOD }, (_, i) => `flood ${i}`));
});

it("reads a client past its budget later, in order and whole, and counts it", async () => {
  const burst = 100;
  const b = await start({ publishRate: 200, publishBurst: burst });
  const seen = await recorder(b);
  const flooder = await rawClient(b, "flooder");
  const other = await rawClient(b, "other");
  const count = 600;
  flooder.write(flood(count, "flood"));
  await until(() => b.figures.tally.clientsPaced === 1, "the flooder held");
  const before = seen.length;
  other.write(
    packet({ cmd: "publish", topic: "other", payload: "hello", qos: 0, dup: false, retain: false }),
  );
  await until(() => seen.includes("other hello"), "the other client's message");
  // Held: when it was first held the flood had been handed on no further than its burst and a read.
  expect(before).toBeLessThanOrEqual(burst + PUBLISHES_PER_READ);
  expect(seen.indexOf("other hello")).toBeLessThan(count);
  await until(() => seen.length === count + 1, "the whole flood, read at the budget's pace");
  expect(seen.filter((m) => m.startsWith("flood "))).toEqual(
    Array.from({ length: count }, (_, i) => `flood ${i}`),
  );
  const { tally } = b.figures;
  expect(tally.publishesPaced).toBeGreaterThanOrEqual(count - burst - PUBLISHES_PER_READ);
  expect(tally.publishesPaced).toBeLessThanOrEqual(count);
  expect(tally.publishHolds).toBeGreaterThan(0);
  await until(() => tally.clientsPaced === 0, "the flooder let go");
});

it("passes a burst within the budget without a hold", async () => {
  const b = await start({ publishRate: 10, publishBurst: 500 });
  const seen = await recorder(b);
  const flooder = await rawClient(b, "commands");
  flooder.write(flood(500, "cmd"));
  await until(() => seen.length === 500, "the burst");
  expect(b.figures.tally.publishHolds).toBe(0);
  expect(b.figures.tally.publishesPaced).toBe(0);
});
