// The broker behaviour the protocol leans on, checked on Mosquitto, whose handling differs from the
// embedded broker's in places: retained messages on subscribe (a node syncs from them), the retain
// flag of live deliveries, QoS downgrades, and last wills — on a lost socket, on a silent link
// (keepalive), and on a session taken over by the same client id (a board rebooting faster than
// the broker notices the old socket is dead).
import { once } from "node:events";
import { connect } from "node:net";
import mqtt, { type MqttClient } from "mqtt";
import { generate, type Packet, parser } from "mqtt-packet";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { CoreClient } from "../../node/mqtt-node.js";
import { type Mosquitto, startMosquitto } from "../mosquitto.js";
import { type Delivery, retained, startNode, until } from "./helpers.js";

let broker: Mosquitto;
const open: { close(): Promise<unknown> }[] = [];
beforeAll(async () => {
  broker = await startMosquitto();
});
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});
afterAll(async () => {
  await broker?.close();
});

async function node(id: string, opts: Parameters<typeof startNode>[2] = {}): Promise<CoreClient> {
  const n = await startNode(broker.url, id, opts);
  open.push({ close: () => n.stop() });
  return n;
}

/** A control-side client that records every delivery under `filters`. */
async function watcher(...filters: string[]): Promise<{ client: MqttClient; seen: Delivery[] }> {
  const client = await mqtt.connectAsync(broker.url, { protocolVersion: 4, clean: true, reconnectPeriod: 0 });
  open.push({ close: () => client.endAsync() });
  const seen: Delivery[] = [];
  client.on("message", (topic, payload, packet) =>
    seen.push({ topic, payload: payload.toString(), retain: packet.retain, qos: packet.qos }),
  );
  await client.subscribeAsync(filters, { qos: 1 });
  return { client, seen };
}

describe("retained messages on Mosquitto", () => {
  it("a new subscriber gets a node's report, config and status as retained, at the publisher's QoS 0", async () => {
    const a = await node("rt-a");
    a.press();
    await until(() => a.state.stamp.counter === 1, "rt-a pressed");
    const { seen } = await watcher("tf/report/rt-a");
    await until(() => seen.length > 0, "the retained report");
    const got = await retained(broker.url, "tf/+/rt-a");
    expect(got.get("tf/report/rt-a")).toMatchObject({ payload: "R1 1 1 rt-a", retain: true, qos: 0 });
    expect(got.get("tf/status/rt-a")).toMatchObject({ payload: "T1 1", retain: true, qos: 0 });
    // Never written: a node with no pairing has published no config, and registers are not retained.
    expect([...got.keys()].sort()).toEqual(["tf/report/rt-a", "tf/status/rt-a"]);
    // A live delivery to an established subscription carries retain 0 (MQTT 3.1.1, 3.3.1.3).
    a.press();
    await until(() => seen.some((d) => d.payload === "R1 0 2 rt-a"), "the live report");
    expect(seen.at(-1)).toMatchObject({ payload: "R1 0 2 rt-a", retain: false, qos: 0 });
    expect(seen[0]).toMatchObject({ payload: "R1 1 1 rt-a", retain: true });
  });

  it("a rebooted node syncs from its retained config and report long before its grace period ends", async () => {
    const src = await node("rb-src");
    let f = await node("rb-f");
    const control = await mqtt.connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0 });
    open.push({ close: () => control.endAsync() });
    await control.publishAsync("tf/subscribe/rb-f", "F1 rb-src", { qos: 1 });
    await until(() => f.state.sources.some((s) => s === "rb-src"), "rb-f follows rb-src");
    src.press();
    await until(() => f.state.on, "rb-f on");
    await f.powerOff();
    const started = performance.now();
    f = await node("rb-f", { syncGraceMs: 10_000 });
    // Synced by the two retained messages, not by the 10 s grace period.
    expect(performance.now() - started).toBeLessThan(3000);
    expect(f.state).toMatchObject({ on: true, stamp: { counter: 1, origin: "rb-src" }, sources: ["rb-src"] });
    f.press();
    await until(() => f.state.stamp.counter === 2, "rb-f's press after the reboot");
    expect(f.state.stamp.origin).toBe("rb-f");
  });

  it("an empty retained payload clears the topic for later subscribers", async () => {
    const a = await node("cl-a");
    await a.stop();
    const control = await mqtt.connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0 });
    open.push({ close: () => control.endAsync() });
    for (const kind of ["report", "status"]) {
      await control.publishAsync(`tf/${kind}/cl-a`, "", { qos: 1, retain: true });
    }
    expect([...(await retained(broker.url, "tf/+/cl-a")).keys()]).toEqual([]);
  });
});

describe("client ids on Mosquitto", () => {
  it("accepts the longest client id a node can have (36 bytes, over MQTT 3.1.1's guaranteed 23)", async () => {
    const prefix = "abcdefghijkl";
    const id = "n".repeat(23);
    const { seen } = await watcher(`${prefix}/status/${id}`);
    const n = await startNode(broker.url, id, { prefix });
    open.push({ close: () => n.stop() });
    expect(`${prefix}-${id}`).toHaveLength(36);
    await until(() => seen.some((d) => d.payload === "T1 1"), "the node online");
  });
});

describe("QoS on Mosquitto", () => {
  it("a control's QoS 1 command reaches a QoS 1 subscription at QoS 1; a node's QoS 0 report stays QoS 0", async () => {
    const { client, seen } = await watcher("tf/state/qs-a", "tf/report/qs-a");
    await client.publishAsync("tf/state/qs-a", "S1 1 5", { qos: 1 });
    const a = await node("qs-a");
    await until(() => seen.some((d) => d.topic === "tf/report/qs-a"), "qs-a's report");
    expect(seen.find((d) => d.topic === "tf/state/qs-a")).toMatchObject({ qos: 1, retain: false });
    expect(seen.find((d) => d.topic === "tf/report/qs-a")).toMatchObject({ qos: 0 });
    // The command was not queued for the node, which was not connected (clean session).
    expect(a.state.on).toBe(false);
  });
});

/** A bare MQTT connection, to control exactly what a board sends (and what it does not). */
async function rawConnect(
  clientId: string,
  keepalive: number,
): Promise<{ closedByBroker: Promise<void>; close(): void }> {
  const socket = connect(broker.port, "127.0.0.1");
  await once(socket, "connect");
  const p = parser({ protocolVersion: 4 });
  const connack = new Promise<Packet>((resolve) => p.once("packet", resolve));
  socket.on("data", (d) => p.parse(d));
  socket.on("error", () => {});
  let ours = false;
  const closedByBroker = new Promise<void>((resolve) => socket.once("close", () => ours || resolve()));
  socket.write(
    generate({
      cmd: "connect",
      clientId,
      protocolVersion: 4,
      clean: true,
      keepalive,
      will: { topic: `tf/status/${clientId.slice(3)}`, payload: "T1 0", qos: 1, retain: true },
    }),
  );
  expect(await connack).toMatchObject({ cmd: "connack", returnCode: 0 });
  socket.write(
    generate({
      cmd: "publish",
      topic: `tf/status/${clientId.slice(3)}`,
      payload: "T1 1",
      qos: 0,
      retain: true,
      dup: false,
    }),
  );
  return {
    closedByBroker,
    close: () => {
      ours = true;
      socket.destroy();
    },
  };
}

describe("last wills on Mosquitto", () => {
  it("a node whose socket closes without DISCONNECT gets its will, retained", async () => {
    const { seen } = await watcher("tf/status/lw-a");
    const a = await node("lw-a");
    await until(() => seen.some((d) => d.payload === "T1 1"), "lw-a online");
    await a.powerOff();
    await until(() => seen.some((d) => d.payload === "T1 0"), "lw-a's will");
    expect(seen.at(-1)).toMatchObject({ payload: "T1 0", retain: false, qos: 1 });
    expect((await retained(broker.url, "tf/status/lw-a")).get("tf/status/lw-a")).toMatchObject({
      payload: "T1 0",
      retain: true,
      qos: 1,
    });
  });

  it("a node that stops cleanly publishes its T1 0 itself, and the broker discards its will", async () => {
    const { seen } = await watcher("tf/status/cs-a");
    const a = await node("cs-a");
    await until(() => seen.some((d) => d.payload === "T1 1"), "cs-a online");
    await a.stop();
    await until(() => seen.some((d) => d.payload === "T1 0"), "cs-a's T1 0");
    // The node's own publish (QoS 0), not the will (QoS 1); and no will after it.
    const status = (await retained(broker.url, "tf/status/cs-a")).get("tf/status/cs-a");
    expect(status).toMatchObject({ payload: "T1 0", retain: true, qos: 0 });
    expect(seen.filter((d) => d.payload === "T1 0")).toEqual([
      { topic: "tf/status/cs-a", payload: "T1 0", retain: false, qos: 0 },
    ]);
  });

  it("a silent link is cut by the keepalive check and the will is published", async () => {
    const { seen } = await watcher("tf/status/lw-silent");
    const conn = await rawConnect("tf-lw-silent", 1);
    open.push({ close: async () => conn.close() });
    await until(() => seen.some((d) => d.payload === "T1 1"), "lw-silent online");
    // No PINGREQ is ever sent: the broker must give up on its own. MQTT 3.1.1 asks for 1.5
    // keepalives; Mosquitto 2.0 checks on a coarser schedule (3-5.5 s for a keepalive of 1 s,
    // 11-12 s for 4 s), so only the order of magnitude is held to.
    await until(() => seen.some((d) => d.payload === "T1 0"), "lw-silent's will", 12_000);
    await conn.closedByBroker;
  });

  it("a node that takes over its own session (a fast reboot) ends online", async () => {
    const { seen } = await watcher("tf/status/to-a");
    // The old session never disconnects and never reconnects: a board that lost power.
    const old = await rawConnect("tf-to-a", 15);
    open.push({ close: async () => old.close() });
    await until(() => seen.some((d) => d.payload === "T1 1"), "the old session online");
    const a = await node("to-a", { reconnect: false });
    await old.closedByBroker;
    await until(
      () => a.state.phase === "synced" && seen.filter((d) => d.payload === "T1 1").length >= 2,
      "to-a synced",
    );
    // Mosquitto publishes the old session's will on takeover, before the new session syncs and
    // publishes T1 1: the node blinks offline, and the retained status ends online.
    expect(seen.map((d) => d.payload)).toEqual(["T1 1", "T1 0", "T1 1"]);
    const status = (await retained(broker.url, "tf/status/to-a")).get("tf/status/to-a");
    expect(status?.payload).toBe("T1 1");
  });
});
