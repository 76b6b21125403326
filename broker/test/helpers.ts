/**
 * Shared test plumbing: event waits with timeouts (never sleeps), MQTT.js clients and raw sockets
 * against a broker on port 0.
 */
import type { EventEmitter } from "node:events";
import { connect as connectTcp, type Socket } from "node:net";
import { connectAsync, type IClientOptions, type MqttClient } from "mqtt";
import mqttPacket from "mqtt-packet";
import { pino } from "pino";
import { expect } from "vitest";
import { loopDeadline } from "../../node/test/loop-time.js";
import { runBrokerCommand } from "../command.js";
import type { BrokerCommandOptions } from "../options.js";

/**
 * Resolves with the event's arguments, or rejects after `ms` of this process's loop time
 * (node/test/loop-time.ts) naming what did not happen. The brokers of these tests run in this
 * process: a host that held it 2.8 s ran a broker's 300 ms connect timeout and a 3 s wall-clock wait
 * for its close in one turn of the loop, and the wait ended before the close it was waiting for.
 */
export function once<T extends unknown[] = unknown[]>(
  source: EventEmitter | MqttClient,
  event: string,
  ms = 5000,
  filter: (...args: T) => boolean = () => true,
): Promise<T> {
  // MqttClient's typed event map is not an EventEmitter to TypeScript, though it is one at runtime.
  const emitter = source as EventEmitter;
  return new Promise((resolve, reject) => {
    const deadline = loopDeadline(ms, () => {
      emitter.off(event, listener);
      reject(new Error(`no "${event}" within ${ms} ms of loop time`));
    });
    const listener = (...args: T) => {
      if (!filter(...args)) return;
      deadline.cancel();
      emitter.off(event, listener);
      resolve(args);
    };
    emitter.on(event, listener as (...a: unknown[]) => void);
  });
}

/**
 * How long a client waits for its CONNACK: a deadline for a broker that never answers, not a measure
 * of one that does. 5 s was passed on a host at load average 21-29: a login's scrypt hash
 * (limits.test.ts) and 40 clients connecting at once to a broker on LevelDB (close-store.test.ts).
 */
export const CONNACK_WAIT_MS = 20_000;

/** An MQTT.js client that never reconnects on its own, so a cut connection stays cut. */
export function client(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  return connectAsync(url, {
    reconnectPeriod: 0,
    connectTimeout: CONNACK_WAIT_MS,
    protocolVersion: 4,
    ...options,
  });
}

export async function closeAll(...clients: (MqttClient | undefined)[]): Promise<void> {
  await Promise.all(clients.map((c) => c?.endAsync(true)));
}

/** Next message on `topic` (exact match) as a string. */
export async function nextMessage(c: MqttClient, topic: string, ms = 5000): Promise<string> {
  const [, payload] = await once<[string, Buffer]>(c, "message", ms, (t) => t === topic);
  return payload.toString();
}

export function rawSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connectTcp(port, "127.0.0.1", () => {
      s.off("error", reject);
      resolve(s);
    });
    s.once("error", reject);
  });
}

/**
 * A raw client `clientId` that subscribes to `filter`, reads its CONNACK and SUBACK (4 and 5 bytes, in
 * one chunk or two), then never reads again: a frozen or stopped subscriber. Its socket goes in `sockets`.
 */
export async function stoppedSubscriber(
  port: number,
  clientId: string,
  filter: string,
  sockets: Socket[],
): Promise<Socket> {
  const s = await rawSocket(port);
  sockets.push(s);
  s.on("error", () => {});
  s.write(connectPacket(clientId));
  s.write(packet({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: filter, qos: 0 }] }));
  let seen = 0;
  while (seen < 9) seen += (await once<[Buffer]>(s, "data"))[0].length;
  s.pause();
  return s;
}

export function packet(p: mqttPacket.Packet): Buffer {
  return mqttPacket.generate(p);
}

export function connectPacket(clientId: string, clean = true): Buffer {
  return packet({
    cmd: "connect",
    protocolId: "MQTT",
    protocolVersion: 4,
    clientId,
    clean,
    keepalive: 60,
  });
}

/** A QoS 2 PUBLISH of `bytes` bytes on `topic`. */
export function qos2Packet(messageId: number, bytes = 1, topic = "t"): Buffer {
  return packet({
    cmd: "publish",
    topic,
    payload: Buffer.alloc(bytes, 120),
    qos: 2,
    messageId,
    dup: false,
    retain: false,
  });
}

/** Every packet the socket receives, in order, as they come. */
export function packetsOf(s: Socket): mqttPacket.Packet[] {
  const got: mqttPacket.Packet[] = [];
  const parser = mqttPacket.parser();
  parser.on("packet", (p: mqttPacket.Packet) => got.push(p));
  s.on("data", (d: Buffer) => parser.parse(d));
  return got;
}

/** Resolves when the socket is closed by the other side (or errors), with how long it took. */
export function closed(s: Socket, ms = 5000): Promise<void> {
  if (s.destroyed) return Promise.resolve();
  return once(s, "close", ms).then(() => undefined);
}

/**
 * The retained payloads of `topics` as the new subscriber `c` gets them. One topic at a time: a
 * retained message is sent before anything published after the SUBACK, so a marker published then
 * ends the wait.
 */
export async function retainedOf(c: MqttClient, topics: string[]): Promise<Record<string, string>> {
  const got: Record<string, string> = {};
  c.on("message", (topic, payload, packet) => {
    if (packet.retain) got[topic] = payload.toString();
  });
  for (const t of topics) {
    await c.subscribeAsync([t, `marker/${t}`]);
    const marked = nextMessage(c, `marker/${t}`);
    await c.publishAsync(`marker/${t}`, "m");
    await marked;
  }
  return got;
}

/** A raw persistent session that leaves a QoS 2 message half done; resolves to the next CONNACK's flag. */
export async function halfDoneQos2(port: number, id: string): Promise<boolean> {
  const raw = await rawSocket(port);
  const seen = packetsOf(raw);
  raw.write(Buffer.concat([connectPacket(id, false), qos2Packet(7)]));
  await expect.poll(() => seen.map((p) => p.cmd)).toEqual(["connack", "pubrec"]);
  raw.destroy();
  // Back: no subscriptions, but the QoS 2 message it sent is not completed (no PUBREL yet).
  const again = await rawSocket(port);
  const answers = packetsOf(again);
  again.write(connectPacket(id, false));
  await expect.poll(() => answers.length).toBe(1);
  again.destroy();
  const [connack] = answers;
  return connack?.cmd === "connack" && connack.sessionPresent;
}

/**
 * `runBrokerCommand(flags)` with a silent logger, once it listens: its URL, `stop()` (what SIGTERM
 * does), and `done`, which settles as the command does once stopped.
 */
export async function runningBrokerCommand(
  flags: BrokerCommandOptions,
): Promise<{ readonly url: string; stop(): void; readonly done: Promise<void> }> {
  const abort = new AbortController();
  let url = "";
  let done: Promise<void> = Promise.resolve();
  await new Promise<void>((listening, failed) => {
    done = runBrokerCommand(flags, {
      logger: pino({ level: "silent" }),
      signal: abort.signal,
      onListening: (b) => {
        url = b.url;
        listening();
      },
    });
    done.catch(failed);
  });
  return { url, stop: () => abort.abort(), done };
}
