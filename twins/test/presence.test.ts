/**
 * Presence of nodes as the twins service sees it on a real broker: registered after a restart or
 * when they appear, offline at their will or clean stop, silent ones found within 1.5 × keepalive.
 */
import { connect as netConnect, type Socket } from "node:net";
import mqttPacket from "mqtt-packet";
import { afterEach, describe, expect, it } from "vitest";
import { startBroker } from "../../broker/index.js";
import type { CoreClient } from "../../node/mqtt-node.js";
import type { Twins } from "../service.js";
import { Fixtures, rawClient, startNode, type TestBroker, until } from "./helpers.js";

const fx = new Fixtures();
afterEach(() => fx.close());
let broker: TestBroker;
async function setup(): Promise<void> {
  broker = await fx.broker();
}
const twins = (): Promise<Twins> => fx.twins();
const node = (id: string): Promise<CoreClient> => fx.node(id);

describe("twins presence", () => {
  it("lists every live node after a restart: the query makes them register again", async () => {
    await setup();
    await node("lamp-1");
    await node("switch-7");
    const first = await twins();
    await until(() => first.list().filter((t) => t.kind === "sim").length === 2, "two registered twins");
    await first.close();

    // A fresh in-memory store: the kinds can only have come from registers answering the query.
    const second = await twins();
    await until(() => second.list().filter((t) => t.kind === "sim").length === 2, "registers after restart");
    expect(second.list().map((t) => t.id)).toEqual(["lamp-1", "switch-7"]);
    expect(second.get("lamp-1")).toMatchObject({
      kind: "sim",
      profile: "uno-w5100",
      firmware: "1.0.0",
      presence: "online",
      reported: { on: false, stamp: { counter: 0, origin: "lamp-1" } },
    });
  });

  it("registers a node that appears while the service runs", async () => {
    await setup();
    const t = await twins();
    const seen = new Promise<string>((resolve) => t.once("twin-registered", (tw) => resolve(tw.id)));
    await node("late-1");
    expect(await seen).toBe("late-1");
  });

  it("shows a node offline as soon as the broker publishes its will (socket cut)", async () => {
    await setup();
    const t = await twins();
    await node("A");
    await until(() => t.get("A")?.presence === "online", "A online");
    const offline = new Promise<string>((resolve) => t.once("twin-offline", (tw) => resolve(tw.id)));
    broker.kill("tf-A");
    expect(await offline).toBe("A");
    expect(t.get("A")?.presence).toBe("offline");
  });

  it("shows a node offline when it stops cleanly: it publishes T1 0 before DISCONNECT", async () => {
    await setup();
    const t = await twins();
    const a = await node("A");
    await until(() => t.get("A")?.presence === "online", "A online");
    const offline = new Promise<string>((resolve) => t.once("twin-offline", (tw) => resolve(tw.id)));
    await a.stop(); // a DISCONNECT: the broker discards the will
    expect(await offline).toBe("A");
    expect(t.get("A")?.presence).toBe("offline");
    // The retained T1 0 is the node's own QoS 0 publish, not its QoS 1 will.
    const raw = fx.track(await rawClient(broker.url), (c) => c.endAsync());
    const status = new Promise<number>((resolve) =>
      raw.once("message", (_t, _p, packet) => resolve(packet.qos)),
    );
    await raw.subscribeAsync("tf/status/A", { qos: 1 });
    expect(await status).toBe(0);
  });

  it("takes a node whose client id is 36 bytes long (the longest prefix and id) on twinfleet's broker", async () => {
    const b = fx.track(await startBroker({ host: "127.0.0.1", port: 0 }), (x) => x.close());
    fx.url = b.url;
    const prefix = "abcdefghijkl";
    const id = "n".repeat(23);
    const t = await fx.twins({ prefix });
    fx.track(await startNode(b.url, id, { prefix }), (n) => n.stop());
    await until(() => t.get(id)?.presence === "online", "the node online");
  });

  it("detects a silent node within 1.5 x its keepalive", async () => {
    await setup();
    const t = await twins();
    // The broker's side of it: when it had the node's last packet (its keepalive timer restarts as
    // it reads a packet, before it reports the publish) and when that timer ran out.
    let receivedAt = Number.NaN;
    let timedOutAt = Number.NaN;
    broker.aedes.on("publish", (p, c) => {
      if (c?.id === "tf-frozen" && p.topic === "tf/register/frozen") receivedAt = performance.now();
    });
    broker.aedes.on("keepaliveTimeout", (c) => {
      if (c.id === "tf-frozen") timedOutAt = performance.now();
    });
    // A node that connects with a 1 s keepalive, registers, then goes silent (a frozen board).
    const sock: Socket = netConnect(broker.port, "127.0.0.1");
    fx.track(sock, async (s) => s.destroy());
    await new Promise<void>((resolve) => sock.once("connect", () => resolve()));
    sock.on("error", () => {});
    const send = (p: mqttPacket.Packet) => sock.write(mqttPacket.generate(p));
    send({
      cmd: "connect",
      protocolId: "MQTT",
      protocolVersion: 4,
      clientId: "tf-frozen",
      clean: true,
      keepalive: 1,
      will: { topic: "tf/status/frozen", payload: Buffer.from("T1 0"), qos: 1, retain: true },
    });
    send({
      cmd: "publish",
      topic: "tf/status/frozen",
      payload: Buffer.from("T1 1"),
      qos: 0,
      retain: true,
      dup: false,
    });
    send({
      cmd: "publish",
      topic: "tf/register/frozen",
      payload: Buffer.from("G1 real uno-w5100 1.0.0"),
      qos: 0,
      retain: false,
      dup: false,
    });
    // Taken before the broker reads the packets: no later than its timer's start.
    const sent = performance.now();
    await until(() => t.get("frozen")?.presence === "online", "frozen online");
    await until(() => t.get("frozen")?.presence === "offline", "frozen offline", 4000);
    const offlineAt = performance.now();
    // Not before the keepalive has passed: from before the broker had the packets, so never shorter
    // than the broker's own wait.
    expect(timedOutAt - sent).toBeGreaterThan(1000);
    // The broker's 1.5 x keepalive (plus a timer's lateness), from when it had the last packet; the
    // delivery of the packets and of the will is not in it, as a busy host may delay either.
    expect(timedOutAt - receivedAt).toBeLessThan(1500 + 300);
    // The twins learnt it from that timeout (the will it publishes), not from anything later.
    expect(offlineAt).toBeGreaterThanOrEqual(timedOutAt);
  });
});
