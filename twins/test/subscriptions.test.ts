/**
 * A broker whose rules refuse what the twins service can do without — the other control servers'
 * forget requests, Mosquitto's `$SYS` count of dropped messages — (SUBACK 0x80; here
 * `denySubscribe`, as `twinfleet broker --deny-subscribe` or a Mosquitto ACL without `$SYS` reads
 * refuses them): the service connects, serves its nodes, and says once per topic what it then misses.
 * MQTT.js rejects such a SUBACK, and the rejection used to stop the connect sequence before the query:
 * the service never connected. Real broker and sockets on port 0.
 */
import { connectAsync } from "mqtt";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { startBroker } from "../../broker/index.js";
import { RealScheduler } from "../../node/scheduler.js";
import { NodeId, Prefix } from "../../protocol/index.js";
import { startTwins } from "../service.js";
import { FILTERS_PER_SUBSCRIBE, ServiceSubscriptions, subscribeUnlessRefused } from "../subscriptions.js";
import { startNode } from "./helpers.js";
import { cleanupAfterEach } from "./own-broker.js";
import { when } from "./poll.js";

const cleanup = cleanupAfterEach();

describe("the twins service's subscriptions", () => {
  it("connects and serves on a broker refusing the forget requests and $SYS, telling each refusal once", async () => {
    const broker = await startBroker({
      host: "127.0.0.1",
      port: 0,
      logger: pino({ level: "silent" }),
      denySubscribe: ["$SYS/#", "tf/forget/#"],
    });
    cleanup.push(() => broker.close());
    const lines: { level: number; msg: string; topic?: string }[] = [];
    const logger = pino({ level: "warn" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
    const twins = await startTwins({
      url: broker.url,
      scheduler: new RealScheduler(),
      logger,
      connectTimeoutMs: 5000,
    });
    cleanup.push(() => twins.close());
    const node = await startNode(broker.url, "n-1");
    cleanup.push(() => node.stop());
    await when(() => twins.get("n-1")?.presence === "online");
    const refused = lines.filter((l) => l.msg.includes("refused the subscription"));
    expect(refused.map((l) => l.topic).sort()).toEqual([
      "$SYS/broker/member/+/lost",
      "$SYS/broker/publish/messages/dropped",
      "$SYS/broker/start-id",
      "$SYS/broker/uptime",
      "tf/forget/+",
    ]);
    expect(refused.find((l) => l.topic === "$SYS/broker/start-id")?.msg).toMatch(
      /a broker restarted on its store is not told from a dropped connection/,
    );
    expect(refused.find((l) => l.topic === "tf/forget/+")?.msg).toMatch(
      /retired through another control server/,
    );
  });

  it("serves on a broker refusing it the nodes' registers, telling once the filter and the rule to change", async () => {
    // The refusal stopped the connect sequence before the presence and the query, told only as
    // `subscribing failed err="Subscribe error: Unspecified error"`, no filter named.
    const broker = await startBroker({
      host: "127.0.0.1",
      port: 0,
      logger: pino({ level: "silent" }),
      denySubscribe: ["tf/register/+"],
    });
    cleanup.push(() => broker.close());
    const lines: { msg: string; topic?: string }[] = [];
    const logger = pino({ level: "warn" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
    const twins = await startTwins({ url: broker.url, scheduler: new RealScheduler(), logger });
    cleanup.push(() => twins.close());
    const node = await startNode(broker.url, "n-1");
    cleanup.push(() => node.stop());
    await when(() => twins.get("n-1")?.presence === "online");
    await when(() => lines.some((l) => l.topic === "tf/register/+"));
    expect(lines.map((l) => l.msg).filter((m) => !m.includes("$SYS"))).toEqual([
      "twins: the broker refused the subscription to tf/register/+: the nodes' registers (kind, profile, firmware) are not read; the broker's access rules must let this login read tf/register/+ (twinfleet broker: a control login in --auth FILE, no --deny-subscribe over it; Mosquitto: `topic read tf/register/+` for this user in its acl_file)",
    ]);
  });

  it("a one-shot command naming 50 nodes stays connected to a broker with its default limits", async () => {
    // One SUBSCRIBE of 150 filters passed --max-filters-per-subscribe (64): the broker closed the
    // connection and `twinfleet forget` of 50 nodes said the broker did not answer its subscriptions.
    const broker = await startBroker({ host: "127.0.0.1", port: 0, logger: pino({ level: "silent" }) });
    cleanup.push(() => broker.close());
    const client = await connectAsync(broker.url, { reconnectPeriod: 0 });
    cleanup.push(() => client.endAsync());
    const focus = Array.from({ length: 50 }, (_, i) => NodeId(`gone-${i}`));
    const subs = new ServiceSubscriptions(Prefix("tf"), pino({ level: "silent" }), undefined, { focus });
    await subs.subscribe(client);
    expect(client.connected).toBe(true);
  });

  it("tells a refusal from a lost connection", async () => {
    const granted = (qos: number) => ({ subscribeAsync: async () => [{ topic: "t", qos }] });
    await expect(subscribeUnlessRefused(granted(1), "t", 1)).resolves.toBe(true);
    await expect(subscribeUnlessRefused(granted(128), "t", 1)).resolves.toBe(false);
    const rejecting = (e: Error) => ({ subscribeAsync: () => Promise.reject(e) });
    const refusal = Object.assign(new Error("Subscribe error"), { packet: { granted: [128] } });
    await expect(subscribeUnlessRefused(rejecting(refusal), "t", 1)).resolves.toBe(false);
    await expect(
      subscribeUnlessRefused(rejecting(new Error("client disconnecting")), "t", 1),
    ).rejects.toThrow("client disconnecting");
  });
});

describe("the nodes' subscriptions", () => {
  const all = async (nodes?: { focus: readonly NodeId[] }) => {
    const subs: string[] = [];
    const client = {
      subscribeAsync: async (topic: string | string[], o: { qos: 0 | 1 }) => {
        subs.push(`${[topic].flat().join(",")} ${o.qos}`);
        return [topic].flat().map((t) => ({ topic: t, qos: o.qos }));
      },
      unsubscribeAsync: async () => undefined,
    };
    await new ServiceSubscriptions(Prefix("tf"), pino({ level: "silent" }), undefined, nodes).subscribe(
      client,
    );
    return subs;
  };
  const made = async (nodes?: { focus: readonly NodeId[] }) =>
    (await all(nodes)).filter(
      (s) => !s.startsWith("$SYS") && !s.startsWith("tf/forget") && !s.startsWith("tf/kept"),
    );

  it("reads the sets twins services keep for nodes away after the nodes' own topics (twins/kept-sets.ts)", async () => {
    const subs = await all();
    expect(subs).toContain("tf/kept/+ 0");
    expect(subs.indexOf("tf/kept/+ 0")).toBeGreaterThan(subs.indexOf("tf/register/+ 0"));
  });

  it("the broker's count of dropped messages comes first: its base is the count before the nodes' replay", async () => {
    // Subscribed after the replay, a count published in between held the replay's drops as its base:
    // a short client queue cut the replay and nothing was told.
    for (const nodes of [undefined, { focus: [NodeId("a")] }])
      expect((await all(nodes))[0]).toBe("$SYS/broker/publish/messages/dropped 0");
  });

  it("a service subscribes to the fleet at QoS 0 (a QoS 1 replay is cut by Mosquitto's queue)", async () => {
    expect(await made()).toEqual(["tf/config/+ 0", "tf/status/+ 0", "tf/report/+ 0", "tf/register/+ 0"]);
  });

  it("a one-shot command reads at QoS 0, the nodes it acts on first, by name in one SUBSCRIBE, configs before reports", async () => {
    // Mosquitto drops a QoS 1 replay past 1,020 messages with its defaults (docs/mosquitto.md, "Queues").
    expect(await made({ focus: [NodeId("a"), NodeId("b")] })).toEqual([
      "tf/config/a,tf/config/b,tf/status/a,tf/status/b,tf/report/a,tf/report/b 0",
      "tf/config/+ 0",
      "tf/status/+ 0",
      "tf/report/+ 0",
      "tf/register/+ 0",
    ]);
  });

  it("names the nodes in SUBSCRIBEs of at most FILTERS_PER_SUBSCRIBE filters, every filter once, in order", async () => {
    const focus = Array.from({ length: 50 }, (_, i) => NodeId(`n-${i}`));
    const named = (await made({ focus })).slice(0, -4).map((s) => s.replace(/ 0$/, "").split(","));
    expect(named.map((f) => f.length)).toEqual([64, 64, 22]);
    expect(Math.max(...named.map((f) => f.length))).toBeLessThanOrEqual(FILTERS_PER_SUBSCRIBE);
    expect(named.flat()).toEqual(
      ["config", "status", "report"].flatMap((kind) => focus.map((id) => `tf/${kind}/${id}`)),
    );
  });
});
