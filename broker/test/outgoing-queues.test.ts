/**
 * The in-memory store's queues of unacknowledged packets: a persistent session's QoS 1 messages wait
 * while it is away and go once acknowledged, and a client that acknowledges what it was never sent
 * (any PUBACK, from any client id) leaves nothing behind — every such id used to stay in memory.
 */
import mqtt, { type MqttClient } from "mqtt";
import { afterEach, expect, it } from "vitest";
import type { IndexedMemoryPersistence } from "../memory-store.js";
import { OutgoingQueues } from "../outgoing-queues.js";
import { type RunningBroker, startBroker } from "../server.js";
import { client, closeAll, closed, connectPacket, once, packet, rawSocket } from "./helpers.js";

let broker: RunningBroker | undefined;
let clients: MqttClient[] = [];
afterEach(async () => {
  await closeAll(...clients);
  await broker?.close();
  broker = undefined;
  clients = [];
});

const queues = (b: RunningBroker) =>
  (b.aedes as unknown as { persistence: IndexedMemoryPersistence }).persistence.outgoing;

it("forgets clients that acknowledge packets they were never sent", async () => {
  // Ids of 1,000 bytes and more make the leak plain; the default limit (256 bytes) would refuse them.
  broker = await startBroker({ host: "127.0.0.1", port: 0, maxClientIdBytes: 4096 });
  for (let i = 0; i < 20; i++) {
    const s = await rawSocket(broker.port);
    s.write(connectPacket(`acker-${i}-${"x".repeat(1000)}`));
    await once(s, "data");
    s.write(packet({ cmd: "puback", messageId: 7 }));
    s.write(packet({ cmd: "pubcomp", messageId: 8 }));
    s.end(packet({ cmd: "disconnect" }));
    await closed(s);
  }
  expect(queues(broker).size).toBe(0);
});

it("keeps a persistent session's messages while it is away and drops its queue once they are acked", async () => {
  broker = await startBroker({ host: "127.0.0.1", port: 0 });
  const sub = await client(broker.url, { clientId: "away", clean: false });
  await sub.subscribeAsync("q/t", { qos: 1 });
  await sub.endAsync();
  const pub = await client(broker.url, { clientId: "pub" });
  clients.push(pub);
  for (const n of [1, 2, 3]) await pub.publishAsync("q/t", `m${n}`, { qos: 1 });
  expect(queues(broker).size).toBe(1);

  // Listening before the connection opens: the queued messages follow the CONNACK at once. aedes
  // reports each PUBACK (MQTT.js sends one per message) once the store has cleared its packet.
  let acked = 0;
  const allAcked = new Promise<void>((resolve) =>
    broker!.aedes.on("ack", (_packet, c) => {
      if (c.id === "away" && ++acked === 3) resolve();
    }),
  );
  const back = mqtt.connect(broker.url, {
    clientId: "away",
    clean: false,
    protocolVersion: 4,
    reconnectPeriod: 0,
  });
  clients.push(back);
  const got: string[] = [];
  back.on("message", (_t, payload) => void got.push(payload.toString()));
  await allAcked;
  expect(queues(broker).size).toBe(0);
  expect(got).toEqual(["m1", "m2", "m3"]);
});

it("matches aedes-persistence: ids by broker counter, PUBREL in place of its PUBLISH, a miss throws", async () => {
  const q = new OutgoingQueues();
  const me = { id: "c" };
  q.enqueue("c", { cmd: "publish", brokerId: "b", brokerCounter: 1, topic: "t", qos: 1 });
  q.enqueue("c", { cmd: "publish", brokerId: "b", brokerCounter: 2, topic: "t", qos: 1 });
  q.update(me, { brokerId: "b", brokerCounter: 2, messageId: 10 });
  q.update(me, { brokerId: "b", brokerCounter: 1, messageId: 11 });
  q.update(me, { cmd: "pubrel", brokerId: "other", messageId: 11 });
  expect(() => q.update(me, { brokerId: "b", brokerCounter: 9, messageId: 12 })).toThrow("no such packet");
  expect(() => q.update({ id: "nobody" }, { messageId: 1 })).toThrow("no such packet");
  expect(q.size).toBe(1);

  const listed: unknown[] = [];
  for await (const p of q.stream(me)) listed.push(p);
  expect(listed).toMatchObject([
    { cmd: "pubrel", messageId: 11 },
    { cmd: "publish", messageId: 10 },
  ]);

  expect(q.clear(me, { messageId: 99 })).toBeUndefined();
  expect(q.clear(me, { messageId: 10 })).toMatchObject({ brokerCounter: 2 });
  expect(q.clear(me, { messageId: 11 })).toMatchObject({ cmd: "pubrel" });
  expect(q.size).toBe(0);
  expect(q.clear({ id: "nobody" }, { messageId: 1 })).toBeUndefined();
  expect(q.size).toBe(0);
});
