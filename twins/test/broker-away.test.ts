/**
 * Commands while the broker is away, on real sockets: a set or query asked for while the broker is
 * not reached yet, its connection lost or the broker silent is refused at once, naming the broker and
 * since when, and is never sent later; one in flight when the connection drops or the broker falls
 * silent, not acknowledged within ACK_TIMEOUT_MS, or when the service closes, settles with an error
 * and is not sent again after a reconnect, nor delivered when a cut path heals; a pair given while the broker is away is stored and
 * reaches the node once the broker is back, whether the node was online (commands) or offline (sent
 * when it returns).
 */
import { type AddressInfo, createServer, type Server } from "node:net";
import { Aedes, type AuthorizePublishHandler, type Client } from "aedes";
import { afterEach, describe, expect, it } from "vitest";
import { startBroker } from "../../broker/index.js";
import { FakeScheduler } from "../../node/scheduler.js";
import { NodeId, Prefix, topicOf } from "../../protocol/index.js";
import { ACK_TIMEOUT_MS } from "../broker-away.js";
import { CLOSE_GRACE_MS } from "../broker-link.js";
import { BrokerUnavailableError, startTwins, type Twins } from "../service.js";
import { memoryStore } from "../store.js";
import { freezableProxy } from "./freezable-proxy.js";
import { closedPort, Fixtures, until } from "./helpers.js";
import { answeredStep, when } from "./poll.js";

const fx = new Fixtures();
afterEach(() => fx.close());

const PREFIX = Prefix("tf");
const QUERY = topicOf(PREFIX, "query");
const stateOf = (id: string) => topicOf(PREFIX, "state", NodeId(id));

/** What a command's promise settled to, without throwing: the error, or "resolved". */
const settled = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => "resolved",
    (e: unknown) => e,
  );

/**
 * An aedes broker on `port` that records every publish it is asked to take (topic, client id) and,
 * while `hold` says so, takes none: it never acknowledges it (a broker that has not answered yet).
 */
async function recordingBroker(port = 0, hold: (topic: string) => boolean = () => false) {
  const published: { topic: string; client: string }[] = [];
  const clients = new Map<string, Client>();
  const authorizePublish: AuthorizePublishHandler = (client, packet, done) => {
    published.push({ topic: packet.topic, client: client?.id ?? "" });
    if (!hold(packet.topic)) done(null);
  };
  const aedes = await Aedes.createBroker({ authorizePublish });
  aedes.on("client", (c) => clients.set(c.id, c));
  const server: Server = createServer((socket) => aedes.handle(socket));
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const close = async () => {
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  fx.track(null, close);
  return {
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    published,
    /** Cuts a client's socket from the broker side, as a dead link does. */
    cut: (id: string) => clients.get(id)?.conn.destroy(),
  };
}

/** Publishes by `twins` the broker was asked to take on `topic`. */
const sent = (b: { published: { topic: string; client: string }[] }, twins: Twins, topic: string) =>
  b.published.filter((p) => p.client === twins.clientId && p.topic === topic).length;

describe("a command while the broker is away", () => {
  it("is refused at once before the broker is first reached, and not sent once it is", async () => {
    const port = await closedPort();
    const url = `mqtt://127.0.0.1:${port}`;
    const sched = new FakeScheduler(0);
    const store = memoryStore({
      nodes: { "lamp-1": { sources: [], configVersion: 1, kind: "real", lastSeen: 0 } },
    });
    const twins = fx.track(
      await startTwins({
        url,
        scheduler: sched,
        store,
        waitForBroker: true,
        reconnectPeriodMs: 50,
        probe: false,
      }),
      // Closed after the broker (tracked later): its goodbye's grace runs out on the stepped clock.
      async (t) => {
        const closing = t.close();
        sched.advance(CLOSE_GRACE_MS);
        await closing;
      },
    );
    await when(() => twins.waiting?.cause !== undefined);
    sched.advance(35_000);
    const set = await settled(twins.set("lamp-1", true));
    expect(set).toBeInstanceOf(BrokerUnavailableError);
    expect(set).toMatchObject({
      broker: url,
      away: "unreached",
      sent: false,
      message: `the broker at ${url} is not reachable (not reached in the 35 s since the service started: cannot reach the broker at ${url}: connection refused): the set was not sent`,
    });
    await expect(twins.query()).rejects.toThrow(
      `the broker at ${url} is not reachable (not reached in the 35 s since the service started: cannot reach the broker at ${url}: connection refused): the query was not sent`,
    );
    // The service serves on: its store's twin is there, unchanged (no pending set was made of it).
    expect(twins.get("lamp-1")?.desired.pendingSet).toBeUndefined();

    const broker = await recordingBroker(port);
    await twins.reached;
    // The service's own query after connecting: anything MQTT.js had held would have gone before it.
    await when(() => sent(broker, twins, QUERY) === 1);
    expect(sent(broker, twins, stateOf("lamp-1"))).toBe(0);
  });

  it("is refused at once while the connection is lost, names since when, and goes through once it is back", async () => {
    let broker = await startBroker({ host: "127.0.0.1", port: 0 });
    fx.track(null, () => broker.close());
    fx.url = broker.url;
    const sched = new FakeScheduler(0);
    const twins = await fx.twins({ scheduler: sched, reconnectPeriodMs: 100, probe: false });
    const told: boolean[] = [];
    twins.on("broker", (up) => told.push(up));
    await fx.node("lamp-1");
    await until(() => twins.get("lamp-1")?.presence === "online", "lamp-1 online");

    await broker.close();
    await when(() => told.length === 1);
    sched.advance(12_000);
    const set = await settled(twins.set("lamp-1", true));
    expect(set).toMatchObject({
      name: "BrokerUnavailableError",
      away: "lost",
      sent: false,
      message: `the broker at ${fx.url} is not reachable (the connection was lost 12 s ago; reconnecting): the set was not sent`,
    });
    expect(twins.get("lamp-1")?.desired.pendingSet).toBeUndefined();

    broker = await startBroker({ host: "127.0.0.1", port: broker.port });
    await when(() => told.length === 2);
    const node = await fx.node("lamp-2");
    await until(() => twins.get("lamp-2")?.presence === "online", "lamp-2 online");
    await twins.set("lamp-2", true);
    await until(() => node.state.on, "lamp-2 on");
  });

  it("settles one in flight when the connection drops, and does not send it again after the reconnect", async () => {
    const broker = await recordingBroker(0, (topic) => topic === stateOf("lamp-1"));
    fx.url = broker.url;
    const twins = await fx.twins({ reconnectPeriodMs: 100, probe: false });
    const set = settled(twins.set("lamp-1", true));
    await when(() => sent(broker, twins, stateOf("lamp-1")) === 1);
    broker.cut(twins.clientId);
    expect(await set).toMatchObject({
      name: "BrokerUnavailableError",
      away: "lost",
      sent: true,
      message: `the connection to the broker at ${fx.url} dropped before it acknowledged the set: it may or may not have reached the broker, and the connection does not send it again`,
    });
    // Reconnected: its query is the first thing after the resubscription; a re-sent set came before.
    await when(() => sent(broker, twins, QUERY) === 2);
    expect(sent(broker, twins, stateOf("lamp-1"))).toBe(1);
  });

  it(`settles one the broker does not acknowledge within ${ACK_TIMEOUT_MS / 1000} s, and does not send it again`, async () => {
    const broker = await recordingBroker(0, (topic) => topic === stateOf("lamp-1"));
    fx.url = broker.url;
    const sched = new FakeScheduler(0);
    const twins = await fx.twins({ scheduler: sched, reconnectPeriodMs: 100, probe: false });
    const set = settled(twins.set("lamp-1", true));
    await when(() => sent(broker, twins, stateOf("lamp-1")) === 1);
    sched.advance(ACK_TIMEOUT_MS - 1);
    await new Promise((resolve) => setImmediate(resolve));
    const early = await Promise.race([set, Promise.resolve("pending")]);
    expect(early).toBe("pending");
    sched.advance(1);
    expect(await set).toMatchObject({
      away: "unacknowledged",
      sent: true,
      message: `the broker at ${fx.url} did not acknowledge the set within 10 s: it may or may not have reached the broker, and the connection does not send it again`,
    });
    // MQTT.js would send a publish still in its store again after a reconnect: it is not there.
    broker.cut(twins.clientId);
    await when(() => sent(broker, twins, QUERY) === 2);
    expect(sent(broker, twins, stateOf("lamp-1"))).toBe(1);
  });

  it("settles one in flight when the broker falls silent, and refuses the next while it stays silent", async () => {
    const broker = await startBroker({ host: "127.0.0.1", port: 0 });
    fx.track(null, () => broker.close());
    const proxy = fx.track(await freezableProxy(broker.port), (p) => p.close());
    fx.url = proxy.url;
    const sched = new FakeScheduler(0);
    const twins = fx.track(await startTwins({ url: proxy.url, scheduler: sched }), async (t) => {
      proxy.thaw();
      await t.close();
    });
    for (let i = 0; i < 16; i += 1) await answeredStep(proxy, sched);
    proxy.freeze();
    const set = settled(twins.set("lamp-1", true));
    for (let i = 0; i < 11; i += 1) sched.advance(500);
    expect(await set).toMatchObject({
      away: "silent",
      sent: true,
      message: `the broker at ${proxy.url} fell silent before it acknowledged the set: it may or may not have reached the broker, and the connection does not send it again`,
    });
    await expect(twins.set("lamp-1", false)).rejects.toThrow(
      new RegExp(
        `^the broker at ${proxy.url} is not reachable \\(silent for [56] s with the connection up\\): the set was not sent$`,
      ),
    );
  });

  it("never delivers a set given up when the broker fell silent, once the path is back", async () => {
    // A path cut with the connection up holds what the socket sent (here the frozen proxy holds it)
    // and delivers it when it heals, unless the connection was reset: a set refused 10 s earlier
    // switched its node (a real partition of twins and broker, nftables, for 12 s).
    const broker = await recordingBroker();
    const proxy = fx.track(await freezableProxy(Number(new URL(broker.url).port)), (p) => p.close());
    fx.url = proxy.url;
    const sched = new FakeScheduler(0);
    const twins = fx.track(
      await startTwins({ url: proxy.url, scheduler: sched, reconnectPeriodMs: 50 }),
      (t) => {
        proxy.thaw();
        return t.close();
      },
    );
    for (let i = 0; i < 16; i += 1) await answeredStep(proxy, sched);
    proxy.freeze();
    const set = settled(twins.set("lamp-1", true));
    for (let i = 0; i < 11; i += 1) sched.advance(500);
    expect(await set).toMatchObject({ away: "silent", sent: true });
    proxy.thaw();
    // Once a later set is acknowledged, whatever the path held before it has arrived, or never will.
    while (
      !(await twins.set("lamp-2", true).then(
        () => true,
        () => false,
      ))
    )
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sent(broker, twins, stateOf("lamp-1"))).toBe(0);
  });

  it("settles one in flight when the service closes", async () => {
    const broker = await recordingBroker(0, (topic) => topic === stateOf("lamp-1"));
    fx.url = broker.url;
    const twins = await startTwins({ url: fx.url, reconnectPeriodMs: 100, probe: false });
    const set = settled(twins.set("lamp-1", true));
    await when(() => sent(broker, twins, stateOf("lamp-1")) === 1);
    await twins.close();
    expect(await set).toMatchObject({
      sent: true,
      message: `the twins service closed before the broker at ${fx.url} acknowledged the set: it may or may not have reached the broker, and the connection does not send it again`,
    });
  });
});

describe("a pairing while the broker is away", () => {
  /** A broker on port 0, closed by the test (and after it), started again on the same port by `back`. */
  async function restartable() {
    let broker = await startBroker({ host: "127.0.0.1", port: 0 });
    fx.track(null, () => broker.close());
    fx.url = broker.url;
    return {
      down: () => broker.close(),
      back: async () => {
        broker = await startBroker({ host: "127.0.0.1", port: broker.port });
      },
    };
  }

  it("is stored while the connection is lost, and an online follower follows once the broker is back", async () => {
    const broker = await restartable();
    const twins = await fx.twins({ reconnectPeriodMs: 100 });
    const lost = new Promise<void>((resolve) => twins.once("broker", () => resolve()));
    await fx.node("B", { reconnect: true });
    const a = await fx.node("A", { reconnect: true });
    await until(() => ["A", "B"].every((id) => twins.get(id)?.presence === "online"), "A and B online");

    await broker.down();
    await lost;
    const outcome = await twins.pair("A", "B");
    expect(outcome).toMatchObject({ sent: false });
    expect(outcome.sent === false && outcome.why).toMatch(
      new RegExp(
        `^the broker at ${fx.url} is not reachable \\(the connection was lost \\d+ s ago; reconnecting\\)$`,
      ),
    );
    expect(twins.get("A")).toMatchObject({ pairing: "pending", desired: { sources: ["B"] } });

    // An in-memory broker, back empty: the nodes reconnect and sync, the service queries, and A,
    // registering with its pairing pending, is sent it.
    await broker.back();
    await until(() => a.state.sources.join() === "B", "A follows B", 10_000);
    await until(() => twins.get("A")?.pairing === "confirmed", "the pairing confirmed", 10_000);
    expect(twins.get("B")?.followers).toEqual(["A"]);
  });

  it("is stored for an offline follower while the connection is lost, and reaches it when it returns", async () => {
    const broker = await restartable();
    const twins = await fx.twins({ reconnectPeriodMs: 100 });
    const lost = new Promise<void>((resolve) => twins.once("broker", () => resolve()));
    await fx.node("B", { reconnect: true });
    const a = await fx.node("A");
    await until(() => ["A", "B"].every((id) => twins.get(id)?.presence === "online"), "A and B online");
    await a.stop();
    await until(() => twins.get("A")?.presence === "offline", "A offline");

    await broker.down();
    await lost;
    const outcome = await twins.unpair("A", "B").catch((e: unknown) => e);
    expect(outcome).toMatchObject({ message: "A does not follow B" }); // bad input is still refused
    const paired = await twins.pair("A", "B");
    expect(paired.sent === false && paired.why).toMatch(
      /^the broker at .* is not reachable \(the connection was lost/,
    );

    await broker.back();
    await until(() => twins.get("B")?.presence === "online", "the service back, B online", 10_000);
    const back = await fx.node("A");
    await until(() => back.state.sources.join() === "B", "A follows B", 10_000);
    await until(() => twins.get("A")?.pairing === "confirmed", "the pairing confirmed", 10_000);
  });
});
