/**
 * Per-client limits on stored messages, on real sockets: a persistent session holds at most
 * `maxQueuedMessagesPerClient` messages while offline (the oldest kept, in memory and in LevelDB)
 * and has room again once they are acknowledged; a connected one at its cap stays connected and gets
 * the messages past it in order, unkept; a QoS 2 sender that withholds PUBREL past
 * `maxInflightPerClient` is cut.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type MqttClient } from "mqtt";
import mqttPacket from "mqtt-packet";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../server.js";
import {
  client,
  closeAll,
  closed,
  connectPacket,
  nextMessage,
  packet,
  packetsOf,
  qos2Packet,
  rawSocket,
} from "./helpers.js";

let broker: RunningBroker | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await broker?.close();
  broker = undefined;
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** Publishes `texts` on `q` at QoS 1, then returns once the broker has handled them all. */
async function publishAll(publisher: MqttClient, observer: MqttClient, texts: string[], mark: string) {
  for (const t of texts) await publisher.publishAsync("q", t, { qos: 1 });
  // The broker handles a publisher's packets in order, so the marker's delivery means all are stored.
  const marked = nextMessage(observer, "marker");
  await publisher.publishAsync("marker", mark, { qos: 1 });
  expect(await marked).toBe(mark);
}

/**
 * Connects the persistent subscriber, waits until it has been sent and has acknowledged `queued`
 * messages, then sends it a probe on the same topic: anything queued beyond those would reach it
 * before the probe. Returns everything it got, the probe last, once the probe is acknowledged too.
 */
async function session(url: string, publisher: MqttClient, queued: number): Promise<string[]> {
  const aedes = broker?.aedes;
  if (aedes === undefined) throw new Error("no broker");
  const got: string[] = [];
  let acks = 0;
  let check = () => {};
  const reach = (goal: () => boolean, what: string) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${what}: got ${got.join(",")}, ${acks} acks`)), 5000);
      check = () => {
        if (!goal()) return;
        clearTimeout(timer);
        resolve();
      };
      check();
    });
  const onAck = (_p: unknown, c: { id?: string } | null) => {
    if (c?.id !== "sleeper") return;
    acks += 1;
    check();
  };
  aedes.on("ack", onAck);
  // Listening before CONNACK: the queued messages follow it at once.
  const c = connect(url, { clientId: "sleeper", clean: false, reconnectPeriod: 0, protocolVersion: 4 });
  c.on("message", (topic, payload) => {
    if (topic !== "q") return;
    got.push(payload.toString());
    check();
  });
  await reach(() => got.length >= queued && acks >= queued, "queued messages");
  await publisher.publishAsync("q", "probe", { qos: 1 });
  await reach(() => got.includes("probe") && acks >= queued + 1, "probe");
  aedes.off("ack", onAck);
  await closeAll(c);
  return got;
}

/** A broker whose persistent sessions hold 4 messages (in LevelDB when `level`), and its log lines. */
async function startCapped(
  level: boolean,
): Promise<{ url: string; port: number; lines: { msg: string; clientId?: string }[] }> {
  const lines: { msg: string; clientId?: string }[] = [];
  const logger = pino({ level: "info" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  const dataDir = level ? await mkdtemp(join(tmpdir(), "session-queue-")) : undefined;
  if (dataDir) dirs.push(dataDir);
  broker = await startBroker({ host: "127.0.0.1", port: 0, maxQueuedMessagesPerClient: 4, dataDir, logger });
  return { url: broker.url, port: broker.port, lines };
}

describe.each([
  ["in memory", false],
  ["in LevelDB", true],
])("a persistent session's queue %s", (_name, level) => {
  it("keeps the oldest messages up to the limit, logs once, and has room again once they are acked", async () => {
    const { url, lines } = await startCapped(level);
    const sleeper = await client(url, { clientId: "sleeper", clean: false });
    await sleeper.subscribeAsync("q", { qos: 1 });
    await closeAll(sleeper);
    const publisher = await client(url, { clientId: "pub" });
    const observer = await client(url, { clientId: "obs" });
    await observer.subscribeAsync("marker", { qos: 1 });

    await publishAll(publisher, observer, ["m0", "m1", "m2", "m3", "m4", "m5", "m6"], "first");
    // What /metrics reads: four held for the one session at its cap, three not kept.
    const queues = broker?.figures.sessionQueues;
    const figures = () => [queues?.queued(), queues?.largest(), queues?.full(), queues?.dropped()];
    expect(queues?.cap).toBe(4);
    expect(figures()).toEqual([4, 4, 1, 3]);
    expect(await session(url, publisher, 4)).toEqual(["m0", "m1", "m2", "m3", "probe"]);
    expect(figures()).toEqual([0, 0, 0, 3]);
    const full = lines.filter((l) => l.msg.startsWith("session queue full"));
    expect(full).toHaveLength(1);
    expect(full[0]?.clientId).toBe("sleeper");
    // Acknowledged, they no longer count: the next absence queues four again.
    await publishAll(publisher, observer, ["n0", "n1", "n2", "n3", "n4"], "second");
    expect(await session(url, publisher, 4)).toEqual(["n0", "n1", "n2", "n3", "probe"]);
    await closeAll(publisher, observer);
  });

  it("keeps a connected client that acknowledges nothing: messages past the limit reach it, unkept", async () => {
    const { url, lines, port } = await startCapped(level);
    // A persistent subscriber that stalled: connected, reading, but sending no PUBACK.
    const s = await rawSocket(port);
    const parser = mqttPacket.parser();
    const got: string[] = [];
    let seen = () => {};
    let subscribed = () => {};
    const suback = new Promise<void>((resolve) => {
      subscribed = resolve;
    });
    parser.on("packet", (p: mqttPacket.Packet) => {
      if (p.cmd === "suback") subscribed();
      if (p.cmd === "publish" && p.topic === "q") got.push(p.payload.toString());
      seen();
    });
    s.on("data", (d: Buffer) => parser.parse(d));
    s.write(connectPacket("sleeper", false));
    s.write(packet({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "q", qos: 1 }] }));
    // Publishing before the SUBACK would race the subscription's store write.
    await suback;
    const publisher = await client(url, { clientId: "pub" });
    const observer = await client(url, { clientId: "obs" });
    await observer.subscribeAsync("marker", { qos: 1 });
    const texts = ["m0", "m1", "m2", "m3", "m4", "m5", "m6"];
    await publishAll(publisher, observer, texts, "first");
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`got ${got.join(",")}; ${JSON.stringify(lines)}`)),
        5000,
      );
      seen = () => {
        if (got.length < texts.length) return;
        clearTimeout(timer);
        resolve();
      };
      seen();
    });
    expect(got).toEqual(texts);
    expect(s.destroyed).toBe(false);
    expect(lines.filter((l) => l.msg.startsWith("session queue full"))).toHaveLength(1);
    expect(lines.filter((l) => l.msg === "client error")).toEqual([]);
    // Gone without acknowledging any: the four kept are sent again, the three past the limit are not.
    s.destroy();
    await closed(s);
    expect(await session(url, publisher, 4)).toEqual(["m0", "m1", "m2", "m3", "probe"]);
    await closeAll(publisher, observer);
  });
});

it("counts what a LevelDB store holds when the broker starts: the cap holds across a restart", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "session-queue-"));
  dirs.push(dataDir);
  const lines: { msg: string; clientId?: string }[] = [];
  const logger = pino({ level: "info" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  const start = async (): Promise<string> => {
    broker = await startBroker({
      host: "127.0.0.1",
      port: 0,
      maxQueuedMessagesPerClient: 4,
      dataDir,
      logger,
    });
    return broker.url;
  };
  const figures = () => {
    const q = broker?.figures.sessionQueues;
    return [q?.queued(), q?.largest(), q?.full(), q?.dropped()];
  };
  const publishing = async (url: string) => {
    const publisher = await client(url, { clientId: "pub" });
    const observer = await client(url, { clientId: "obs" });
    await observer.subscribeAsync("marker", { qos: 1 });
    return { publisher, observer };
  };

  let url = await start();
  const sleeper = await client(url, { clientId: "sleeper", clean: false });
  await sleeper.subscribeAsync("q", { qos: 1 });
  await closeAll(sleeper);
  const before = await publishing(url);
  await publishAll(before.publisher, before.observer, ["m0", "m1", "m2"], "first");
  await closeAll(before.publisher, before.observer);
  await broker?.close();

  url = await start();
  expect(figures()).toEqual([3, 3, 0, 0]);
  const after = await publishing(url);
  // One more fits; two are not kept (counted from 0 again, all three would have been).
  await publishAll(after.publisher, after.observer, ["m3", "m4", "m5"], "second");
  expect(figures()).toEqual([4, 4, 1, 2]);
  expect(lines.filter((l) => l.msg.startsWith("session queue full"))).toHaveLength(1);
  expect(await session(url, after.publisher, 4)).toEqual(["m0", "m1", "m2", "m3", "probe"]);
  expect(figures()).toEqual([0, 0, 0, 2]);
  await closeAll(after.publisher, after.observer);
});

it("says at the start which sessions a LevelDB store holds at the cap", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "session-queue-"));
  dirs.push(dataDir);
  broker = await startBroker({ host: "127.0.0.1", port: 0, maxQueuedMessagesPerClient: 4, dataDir });
  const sleeper = await client(broker.url, { clientId: "sleeper", clean: false });
  await sleeper.subscribeAsync("q", { qos: 1 });
  await closeAll(sleeper);
  const publisher = await client(broker.url, { clientId: "pub" });
  const observer = await client(broker.url, { clientId: "obs" });
  await observer.subscribeAsync("marker", { qos: 1 });
  await publishAll(publisher, observer, ["m0", "m1", "m2"], "first");
  await closeAll(publisher, observer);
  await broker.close();

  // The cap lowered across the restart: three held, two allowed.
  const lines: { msg: string; clientId?: string; held?: number }[] = [];
  const logger = pino({ level: "info" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  broker = await startBroker({ host: "127.0.0.1", port: 0, maxQueuedMessagesPerClient: 2, dataDir, logger });
  const full = lines.filter((l) => l.msg.startsWith("session queue full since before the start"));
  expect(full.map((l) => [l.clientId, l.held])).toEqual([["sleeper", 3]]);
  expect(broker.figures.sessionQueues.full()).toBe(1);
  expect(broker.figures.sessionQueues.queued()).toBe(3);
});

describe("inbound QoS 2 awaiting PUBREL", () => {
  it("cuts a client past maxInflightPerClient, not before", async () => {
    broker = await startBroker({ host: "127.0.0.1", port: 0, maxInflightPerClient: 3 });
    const s = await rawSocket(broker.port);
    const received: string[] = [];
    const parser = mqttPacket.parser();
    const firstThree = new Promise<void>((resolve) => {
      parser.on("packet", (p: mqttPacket.Packet) => {
        received.push(p.cmd);
        if (received.filter((cmd) => cmd === "pubrec").length === 3) resolve();
      });
    });
    s.on("data", (d: Buffer) => parser.parse(d));
    s.write(connectPacket("qos2"));
    s.write(Buffer.concat([qos2Packet(1), qos2Packet(2), qos2Packet(3)]));
    await firstThree;
    expect(received).toEqual(["connack", "pubrec", "pubrec", "pubrec"]);
    expect(s.destroyed).toBe(false);
    s.write(qos2Packet(4));
    await closed(s, 3000);
    expect(received).toEqual(["connack", "pubrec", "pubrec", "pubrec"]);
  });

  /** A persistent session's raw connection: its CONNACK and PUBRECs, and whether it was cut. */
  async function persistent(port: number, id: string, ids: readonly number[], bytes = 1) {
    const s = await rawSocket(port);
    const packets = packetsOf(s);
    s.write(Buffer.concat([connectPacket(id, false), ...ids.map((m) => qos2Packet(m, bytes))]));
    const wasCut = await closed(s, 1500).then(
      () => true,
      () => false,
    );
    s.destroy();
    return { received: packets.map((p) => p.cmd), wasCut };
  }

  it("holds a persistent session to the limit across its connections, not per connection", async () => {
    broker = await startBroker({ host: "127.0.0.1", port: 0, maxInflightPerClient: 3 });
    const first = await persistent(broker.port, "same", [1, 2]);
    expect(first.received.filter((c) => c === "pubrec")).toHaveLength(2);
    // Back again: two more would make four held for one session (each connection took three before).
    // The fourth is refused and the connection cut (the third's PUBREC may not get out first).
    const again = await persistent(broker.port, "same", [3, 4]);
    expect(again.received.filter((c) => c === "pubrec").length).toBeLessThanOrEqual(1);
    expect(again.wasCut).toBe(true);
    // A new message is refused on the next connection too: the session holds three.
    const third = await persistent(broker.port, "same", [5]);
    expect(third.received).toEqual(["connack"]);
    expect(third.wasCut).toBe(true);
  });

  it("holds all sessions together to maxInboundBytes", async () => {
    broker = await startBroker({ host: "127.0.0.1", port: 0, maxInboundBytes: 2500 });
    // Made-up ids, each leaving its flows half done: the third message of 1,000 bytes is one too many.
    const a = await persistent(broker.port, "made-up-1", [1, 2], 1000);
    expect(a.received.filter((c) => c === "pubrec")).toHaveLength(2);
    const b = await persistent(broker.port, "made-up-2", [1], 1000);
    expect(b.received.filter((c) => c === "pubrec")).toHaveLength(0);
    expect(b.wasCut).toBe(true);
    // A clean session's connect clears its own: made-up-1 coming back clean frees its 2,000 bytes.
    const s = await rawSocket(broker.port);
    s.write(connectPacket("made-up-1"));
    await new Promise((r) => setTimeout(r, 300));
    s.destroy();
    const c = await persistent(broker.port, "made-up-3", [1, 2], 1000);
    expect(c.received.filter((cmd) => cmd === "pubrec")).toHaveLength(2);
  });
});
