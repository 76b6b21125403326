/**
 * Slow and frozen clients on real sockets: a subscriber to `#` that stops reading its socket must
 * hold up nobody. Every other subscriber gets every message, in order, while the frozen one's bytes
 * wait in its own queue; it is cut once that queue passes maxQueuedBytes, or once its socket has
 * taken nothing for drainTimeoutMs, and the broker keeps serving.
 */
import type { Socket } from "node:net";
import type { MqttClient } from "mqtt";
import { pino } from "pino";
import { afterEach, expect, it } from "vitest";
import { FrameLimitedStream } from "../frame-limit.js";
import type { BrokerOptions } from "../options.js";
import { OutboundLimitError, type OutboundViolation } from "../outbound.js";
import { type RunningBroker, startBroker } from "../server.js";
import { client, closeAll, nextMessage, once, stoppedSubscriber } from "./helpers.js";

/** Far beyond any wait below: if a delivery ever waited for the frozen socket, the test would time out. */
const NEVER_MS = 120_000;
const MESSAGES = 3000;
/** 3000 × 4 KiB = 12 MiB: far more than loopback socket buffers hold, so the frozen queue must fill. */
const PAYLOAD = Buffer.alloc(4096, 0x46);

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

interface LogLine {
  level: number;
  msg: string;
  clientId?: string;
  queuedBytes?: number;
  limit?: number;
  stalledMs?: number;
}

async function start(options: BrokerOptions): Promise<{ b: RunningBroker; lines: LogLine[] }> {
  const lines: LogLine[] = [];
  const logger = pino({ level: "info" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  broker = await startBroker({ host: "127.0.0.1", port: 0, logger, ...options });
  return { b: broker, lines };
}

/** A raw client that subscribes to `#`, reads its CONNACK and SUBACK, then never reads again. */
function frozenSubscriber(b: RunningBroker): Promise<Socket> {
  return stoppedSubscriber(b.port, "frozen", "#", sockets);
}

/** Resolves with the message numbers `c` receives on flood/data once it has `count` of them. */
function collect(c: MqttClient, count: number): Promise<number[]> {
  const got: number[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${got.length} of ${count} messages`)), 20_000);
    c.on("message", (topic, payload) => {
      if (topic !== "flood/data") return;
      got.push(payload.readUInt32BE(0));
      if (got.length === count) {
        clearTimeout(timer);
        resolve(got);
      }
    });
  });
}

function flood(publisher: MqttClient): void {
  for (let i = 0; i < MESSAGES; i++) {
    const payload = Buffer.from(PAYLOAD);
    payload.writeUInt32BE(i, 0);
    publisher.publish("flood/data", payload, { qos: 0 });
  }
}

/** The frozen client's cut, as aedes reports it. */
function frozenCut(b: RunningBroker): Promise<OutboundViolation> {
  return once<[{ id: string }, Error]>(b.aedes, "clientError", 20_000, (c, err) => {
    return c.id === "frozen" && err instanceof OutboundLimitError;
  }).then(([, err]) => (err as OutboundLimitError).violation);
}

async function healthyAndPublisher(b: RunningBroker): Promise<[MqttClient, MqttClient]> {
  const healthy = await client(b.url, { clientId: "healthy" });
  await healthy.subscribeAsync("flood/#");
  const publisher = await client(b.url, { clientId: "publisher" });
  clients.push(healthy, publisher);
  return [healthy, publisher];
}

const inOrder = Array.from({ length: MESSAGES }, (_, i) => i);

it("delivers everything to a healthy subscriber while a frozen one's bytes wait in its own queue", async () => {
  // Neither limit can be reached in this test: the frozen client stays connected throughout.
  const { b } = await start({ maxQueuedBytes: 1024 ** 3, drainTimeoutMs: NEVER_MS });
  await frozenSubscriber(b);
  const [healthy, publisher] = await healthyAndPublisher(b);

  const received = collect(healthy, MESSAGES);
  flood(publisher);
  expect(await received).toEqual(inOrder);

  // The frozen client really is backed up, and still connected: it held up nobody.
  // aedes keeps its connected clients by id; the typings leave that map out.
  const { clients: byId } = b.aedes as unknown as { clients: Record<string, { conn: unknown } | undefined> };
  const conn = byId.frozen?.conn;
  expect(conn).toBeInstanceOf(FrameLimitedStream);
  expect((conn as FrameLimitedStream).queuedBytes).toBeGreaterThan(0);
  expect(b.aedes.connectedClients).toBe(3);
});

it("cuts the frozen client alone once its queue passes maxQueuedBytes, and logs why", async () => {
  const limit = 256 * 1024;
  const { b, lines } = await start({ maxQueuedBytes: limit, drainTimeoutMs: NEVER_MS });
  await frozenSubscriber(b);
  const [healthy, publisher] = await healthyAndPublisher(b);

  const cut = frozenCut(b);
  const received = collect(healthy, MESSAGES);
  flood(publisher);
  const violation = await cut;
  expect(violation).toMatchObject({ kind: "queue-full", limit });
  expect(await received).toEqual(inOrder);

  const warning = lines.find((l) => l.msg === "connection cut: outbound queue full");
  expect(warning).toMatchObject({ level: 40, clientId: "frozen", limit });
  expect(warning?.queuedBytes).toBeGreaterThan(limit);
  // The frozen socket cannot see its own close (it does not read); the broker has let it go.
  await expect.poll(() => b.aedes.connectedClients).toBe(2);

  // And the broker keeps serving: a newcomer subscribes and receives.
  const late = await client(b.url, { clientId: "late" });
  clients.push(late);
  await late.subscribeAsync("after/cut");
  const got = nextMessage(late, "after/cut");
  await publisher.publishAsync("after/cut", "still here");
  expect(await got).toBe("still here");
});

it("cuts a frozen client whose socket takes nothing for drainTimeoutMs, below the byte bound", async () => {
  const { b, lines } = await start({ maxQueuedBytes: 1024 ** 3, drainTimeoutMs: 200 });
  await frozenSubscriber(b);
  const [healthy, publisher] = await healthyAndPublisher(b);

  const cut = frozenCut(b);
  const received = collect(healthy, MESSAGES);
  flood(publisher);
  expect(await cut).toMatchObject({ kind: "stalled" });
  expect(await received).toEqual(inOrder);
  expect(lines.find((l) => l.msg === "connection cut: socket stalled")).toMatchObject({
    level: 40,
    clientId: "frozen",
  });
  await expect.poll(() => b.aedes.connectedClients).toBe(2);
});
