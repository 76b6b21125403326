/**
 * Access rules (protocol.md §7) with real clients: who may connect, publish and subscribe, and what
 * a denial looks like on the wire (CONNACK code, SUBACK 0x80, a closed connection).
 */
import type { MqttClient } from "mqtt";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NodeId, Prefix } from "../../protocol/index.js";
import { canPublish, canSubscribe, type Identity } from "../acl.js";
import { credentialsPolicy, hashPassword, parseCredentials } from "../credentials.js";
import { type RunningBroker, startBroker } from "../server.js";
import { client, closeAll, nextMessage, once } from "./helpers.js";

const lamp: Identity = { role: "node", username: "lamp", prefix: Prefix("tf"), nodeId: NodeId("lamp-1") };
const control: Identity = { role: "control", username: "ctl" };

describe("rules", () => {
  it.each([
    ["tf/report/lamp-1", true],
    ["tf/config/lamp-1", true],
    ["tf/status/lamp-1", true],
    ["tf/register/lamp-1", true],
    ["tf/report/switch-7", false], // another node's report
    ["tf/state/lamp-1", false], // commands are control-only
    ["tf/subscribe/lamp-1", false],
    ["tf/unsubscribe/lamp-1", false],
    ["tf/query", false],
    ["other/report/lamp-1", false], // another prefix
    ["tf/report/lamp-1/x", false],
    ["$SYS/x", false],
  ])("a node publishing %s: %s", (topic, allowed) => {
    expect(canPublish(lamp, topic)).toBe(allowed);
  });

  it.each([
    ["tf/config/lamp-1", true],
    ["tf/report/lamp-1", true],
    ["tf/state/lamp-1", true],
    ["tf/subscribe/lamp-1", true],
    ["tf/unsubscribe/lamp-1", true],
    ["tf/query", true],
    ["tf/report/switch-7", true], // any single node's report
    ["tf/report/+", false], // no wildcards
    ["tf/#", false],
    ["#", false],
    ["tf/state/switch-7", false],
    ["tf/config/switch-7", false],
    ["tf/report/bad id", false],
  ])("a node subscribing %s: %s", (filter, allowed) => {
    expect(canSubscribe(lamp, filter)).toBe(allowed);
  });

  it("lets control do everything but publish under $SYS", () => {
    expect(canPublish(control, "tf/state/lamp-1")).toBe(true);
    expect(canPublish(control, "tf/config/lamp-1")).toBe(true);
    expect(canSubscribe(control, "#")).toBe(true);
    expect(canPublish(control, "$SYS/x")).toBe(false);
  });

  it("names the bad field of a credentials file", () => {
    expect(() =>
      parseCredentials({ users: { lamp: { role: "node", nodeId: "bad id", password: "x" } } }),
    ).toThrow(/users\.lamp\.nodeId must be a node id.*users\.lamp\.password must be a scrypt/);
    expect(() => parseCredentials({ users: { x: { role: "admin" } } })).toThrow(/users\.x\.role/);
  });
});

describe("with real clients", () => {
  let broker: RunningBroker;
  const open: MqttClient[] = [];
  const as = async (username: string, password: string, clientId: string, extra = {}) => {
    const c = await client(broker.url, { username, password, clientId, ...extra });
    open.push(c);
    return c;
  };

  beforeAll(async () => {
    const [lampPw, swPw, ctlPw] = await Promise.all(["lamp-pw", "sw-pw", "ctl-pw"].map(hashPassword));
    const auth = credentialsPolicy({
      prefix: "tf",
      users: {
        lamp: { role: "node", nodeId: "lamp-1", password: lampPw! },
        sw: { role: "node", nodeId: "switch-7", password: swPw! },
        ctl: { role: "control", password: ctlPw! },
      },
    });
    broker = await startBroker({ host: "127.0.0.1", port: 0, auth });
  });
  afterAll(async () => {
    await closeAll(...open);
    await broker.close();
  });

  it.each([
    ["a wrong password", "lamp", "nope", "tf-lamp-1", 4],
    ["an unknown user", "who", "lamp-pw", "tf-lamp-1", 4],
    ["a node using another node's client id", "lamp", "lamp-pw", "tf-switch-7", 2],
  ])("refuses $0 with CONNACK $4", async (_what, username, password, clientId, code) => {
    await expect(client(broker.url, { username, password, clientId })).rejects.toMatchObject({ code });
  });

  it("refuses a client without credentials", async () => {
    await expect(client(broker.url, { clientId: "anon" })).rejects.toMatchObject({ code: 4 });
  });

  it("refuses a node whose will is another node's status", async () => {
    const will = { topic: "tf/status/switch-7", payload: Buffer.from("T1 0"), qos: 1 as const, retain: true };
    await expect(
      client(broker.url, { username: "lamp", password: "lamp-pw", clientId: "tf-lamp-1", will }),
    ).rejects.toMatchObject({
      code: 5,
    });
  });

  it("grants a node its own topics, the query and single reports, and 0x80 for the rest", async () => {
    const node = await as("lamp", "lamp-pw", "tf-lamp-1");
    const filters = [
      "tf/state/lamp-1",
      "tf/query",
      "tf/report/switch-7",
      "tf/report/+",
      "tf/state/switch-7",
      "#",
    ];
    // MQTT.js rejects when any filter is refused; the SUBACK it carries has the codes.
    const error = await node.subscribeAsync(filters, { qos: 1 }).then(
      () => undefined,
      (e: { packet?: { granted: number[] } }) => e,
    );
    expect(error?.packet?.granted).toEqual([1, 1, 1, 128, 128, 128]);
    expect(node.connected).toBe(true);
  });

  it("delivers a node's own report and control's command", async () => {
    const ctl = await as("ctl", "ctl-pw", "twins");
    const node = await as("sw", "sw-pw", "tf-switch-7");
    await ctl.subscribeAsync("tf/report/+");
    await node.subscribeAsync("tf/state/switch-7", { qos: 1 });

    const report = nextMessage(ctl, "tf/report/switch-7");
    await node.publishAsync("tf/report/switch-7", "R1 1 3 switch-7");
    expect(await report).toBe("R1 1 3 switch-7");

    const command = nextMessage(node, "tf/state/switch-7");
    await ctl.publishAsync("tf/state/switch-7", "S1 0 4", { qos: 1 });
    expect(await command).toBe("S1 0 4");
  });

  it.each([
    ["another node's report", "tf/report/lamp-1"],
    ["a command", "tf/state/lamp-1"],
    ["the query", "tf/query"],
  ])("closes a node's connection when it publishes %s, and drops the message", async (_what, topic) => {
    const ctl = await as("ctl", "ctl-pw", `watch-${topic}`);
    await ctl.subscribeAsync("tf/#");
    const node = await as("sw", "sw-pw", "tf-switch-7");
    const seen: string[] = [];
    ctl.on("message", (t) => seen.push(t));

    const gone = once(node, "close");
    node.publish(topic, "R1 1 9 switch-7");
    await gone;
    // A marker from control arrives after anything the node's publish could have produced.
    const marker = nextMessage(ctl, "tf/query");
    await ctl.publishAsync("tf/query", "Q1");
    await marker;
    expect(seen).toEqual(["tf/query"]);
  });
});

describe("the log of a refused login", () => {
  // The client's own address, IPv6 as written (not the /64 the abuse limits count): the device to find.
  it.each([
    ["127.0.0.1", "127.0.0.1"],
    ["::1", "::1"],
  ])("says it once, with the user name, the address (%s) and why, at warn", async (host, remote) => {
    const lines: { level: number; msg: string; username?: string; why?: string }[] = [];
    const logger = pino({ level: "info" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
    const auth = credentialsPolicy({
      prefix: "tf",
      users: { ctl: { role: "control", password: await hashPassword("ctl-pw") } },
    });
    const broker = await startBroker({ host, port: 0, auth, logger });
    try {
      await expect(
        client(broker.url, { username: "ctl", password: "nope", clientId: "tool", reconnectPeriod: 0 }),
      ).rejects.toMatchObject({ code: 4 });
    } finally {
      await broker.close();
    }
    const aboutIt = lines.filter((l) => l.msg !== "broker closed" && l.level >= 30);
    expect(aboutIt).toEqual([
      expect.objectContaining({
        level: 40,
        msg: "connection refused",
        username: "ctl",
        remote,
        why: "bad-credentials",
      }),
    ]);
  });
});
