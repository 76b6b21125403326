/**
 * A standalone broker's `/metrics` and `/healthz` (web/broker-server.ts) over a real broker on port 0
 * and real MQTT.js clients: the figures move as the clients connect, publish at QoS 0 and 1,
 * subscribe, retain, fail a login, take a session over, send an oversized packet and stop reading;
 * every line is Prometheus text; `/healthz` turns 503 naming the data directory once LevelDB writes
 * fail, or stop finishing (a frozen disk: the scrape still comes, store_up 0); other paths and methods get problem+json; beyond loopback `/metrics` needs the token.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClassicLevel } from "classic-level";
import type { MqttClient } from "mqtt";
import { afterEach, expect, it, vi } from "vitest";
import { credentialsPolicy, hashPassword, startBroker } from "../../broker/index.js";
import { OutboundLimitError } from "../../broker/outbound.js";
import type { RunningBroker } from "../../broker/server.js";
import {
  client,
  closeAll,
  closed,
  connectPacket,
  nextMessage,
  once,
  packet,
  rawSocket,
} from "../../broker/test/helpers.js";
import { FakeScheduler } from "../../node/scheduler.js";
import { type BrokerHttpServer, startBrokerHttp } from "../broker-server.js";
import { parsePrometheus } from "./helpers.js";

const TOKEN = "broker-metrics-token-0123456789";

let broker: RunningBroker | undefined;
let http: BrokerHttpServer | undefined;
let clients: MqttClient[] = [];
let dir: string | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await closeAll(...clients);
  clients = [];
  await http?.close();
  http = undefined;
  await broker?.close();
  broker = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function serve(b: RunningBroker, host = "127.0.0.1"): Promise<BrokerHttpServer> {
  http = await startBrokerHttp({ figures: b.figures, host, port: 0, token: TOKEN });
  return http;
}

async function scrape(h: BrokerHttpServer): Promise<Map<string, number>> {
  const r = await fetch(`${h.origin}/metrics`);
  expect(r.status).toBe(200);
  expect(r.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheus(await r.text());
}

/** `/healthz` once it answers `status` (asked again each 20 ms), or its last answer after 5 s. */
async function healthzUntil(h: BrokerHttpServer, status: number): Promise<Response> {
  for (let i = 0; ; i++) {
    const r = await fetch(`${h.origin}/healthz`);
    if (r.status === status || i === 250) return r;
    await r.arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function connect(url: string, options: Parameters<typeof client>[1] = {}): Promise<MqttClient> {
  const c = await client(url, options);
  clients.push(c);
  return c;
}

it("counts clients, messages by QoS, bytes, subscriptions, retained messages, refusals and cuts", async () => {
  const auth = credentialsPolicy({
    users: { ctl: { role: "control", password: await hashPassword("ctl-pw") } },
  });
  broker = await startBroker({ host: "127.0.0.1", port: 0, wsPort: 0, auth, maxQueuedBytes: 256 * 1024 });
  const h = await serve(broker);
  const login = { username: "ctl", password: "ctl-pw" };

  const before = await scrape(h);
  expect(before.get('twinfleet_broker_clients_connected{listener="mqtt"}')).toBe(0);
  expect(before.get('twinfleet_broker_messages_received_total{qos="0"}')).toBe(0);
  expect(before.get("twinfleet_broker_subscriptions")).toBe(0);
  expect(before.get("twinfleet_broker_retained_messages")).toBe(0);
  expect(before.get('twinfleet_broker_store_up{store="memory"}')).toBe(1);
  // prom-client's process metrics, but the GC histogram (its observer runs on every collection).
  expect(before.has("twinfleet_process_cpu_seconds_total")).toBe(true);
  expect(before.has("twinfleet_process_resident_memory_bytes")).toBe(true);
  expect(before.has("twinfleet_nodejs_eventloop_lag_p99_seconds")).toBe(true);
  expect(before.has("twinfleet_nodejs_heap_size_used_bytes")).toBe(true);
  expect([...before.keys()].filter((k) => k.includes("gc_duration"))).toEqual([]);

  const sub = await connect(broker.url, { clientId: "sub", ...login });
  const pub = await connect(broker.wsUrl as string, { clientId: "pub", ...login });
  await sub.subscribeAsync("t/#", { qos: 1 });
  const got0 = nextMessage(sub, "t/zero");
  await pub.publishAsync("t/zero", "0", { qos: 0 });
  await got0;
  const got1 = nextMessage(sub, "t/one");
  await pub.publishAsync("t/one", "1", { qos: 1, retain: true });
  await got1;

  // A wrong password: CONNACK 5, counted once.
  await expect(
    client(broker.url, { clientId: "intruder", username: "ctl", password: "nope" }),
  ).rejects.toThrow();
  // A second client with sub's id takes its session over.
  const taker = await connect(broker.url, { clientId: "sub", ...login });
  await once(sub, "close");
  // A packet declaring 1 MiB is cut at its header.
  const big = await rawSocket(broker.port);
  big.on("error", () => {});
  big.write(Buffer.from([0x30, 0x80, 0x80, 0x40]));
  await closed(big);

  const after = await scrape(h);
  expect(after.get('twinfleet_broker_clients_connected{listener="mqtt"}')).toBe(1); // the taker
  expect(after.get('twinfleet_broker_clients_connected{listener="ws"}')).toBe(1);
  expect(after.get('twinfleet_broker_connections_accepted_total{listener="mqtt"}')).toBe(4);
  expect(after.get('twinfleet_broker_connections_accepted_total{listener="ws"}')).toBe(1);
  expect(after.get('twinfleet_broker_messages_received_total{qos="0"}')).toBe(1);
  expect(after.get('twinfleet_broker_messages_received_total{qos="1"}')).toBe(1);
  expect(after.get('twinfleet_broker_messages_sent_total{qos="0"}')).toBe(1);
  expect(after.get('twinfleet_broker_messages_sent_total{qos="1"}')).toBe(1);
  expect(after.get("twinfleet_broker_received_bytes_total")).toBeGreaterThan(0);
  expect(after.get("twinfleet_broker_sent_bytes_total")).toBeGreaterThan(0);
  expect(after.get("twinfleet_broker_retained_messages")).toBe(1);
  expect(after.get('twinfleet_broker_connections_refused_total{reason="bad-login"}')).toBe(1);
  expect(after.get('twinfleet_broker_connections_cut_total{reason="takeover"}')).toBe(1);
  expect(after.get("twinfleet_broker_takeovers_repeated_total")).toBe(0); // one takeover: not repeated
  expect(after.get('twinfleet_broker_connections_cut_total{reason="packet-too-large"}')).toBe(1);
  expect(after.get('twinfleet_broker_connections_cut_total{reason="queue-full"}')).toBe(0);

  // Persistent sessions, as --max-sessions counts them (100 by default): none while every client is
  // clean; one that subscribes with clean session 0 and leaves is kept, and counted.
  expect(before.get("twinfleet_broker_persistent_sessions")).toBe(0);
  expect(after.get("twinfleet_broker_max_sessions")).toBe(100);
  expect(after.get("twinfleet_broker_persistent_sessions")).toBe(0);
  const keeper = await connect(broker.url, { clientId: "keeper", clean: false, ...login });
  await keeper.subscribeAsync("k/#", { qos: 1 });
  await keeper.endAsync();
  expect((await scrape(h)).get("twinfleet_broker_persistent_sessions")).toBe(1);
  // Messages held for it while away, against --max-queued-messages (1,000 unless set).
  expect(after.get("twinfleet_broker_queued_messages")).toBe(0);
  expect(after.get("twinfleet_broker_max_queued_messages")).toBe(1000);
  await pub.publishAsync("k/1", "1", { qos: 1 });
  await pub.publishAsync("k/2", "2", { qos: 1 });
  const held = await scrape(h);
  expect(held.get("twinfleet_broker_queued_messages")).toBe(2);
  expect(held.get("twinfleet_broker_queued_messages_largest")).toBe(2);
  expect(held.get("twinfleet_broker_session_queues_full")).toBe(0);
  expect(held.get("twinfleet_broker_queued_messages_dropped_total")).toBe(0);

  // The taker's session has no subscriptions of its own (clean session): none held now.
  expect(after.get("twinfleet_broker_subscriptions")).toBe(0);
  await taker.subscribeAsync(["a/1", "a/2"], { qos: 0 });
  expect((await scrape(h)).get("twinfleet_broker_subscriptions")).toBe(2);
});

it("counts a slow reader cut at --max-queued-bytes", async () => {
  broker = await startBroker({ host: "127.0.0.1", port: 0, maxQueuedBytes: 128 * 1024 });
  const h = await serve(broker);
  const frozen = await rawSocket(broker.port);
  frozen.on("error", () => {});
  frozen.write(connectPacket("frozen"));
  frozen.write(packet({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "#", qos: 0 }] }));
  let seen = 0;
  while (seen < 9) seen += (await once<[Buffer]>(frozen, "data"))[0].length;
  frozen.pause();
  const cut = once<[{ id: string }, Error]>(broker.aedes, "clientError", 20_000, (c, err) => {
    return c.id === "frozen" && err instanceof OutboundLimitError;
  });
  const pub = await connect(broker.url, { clientId: "flood" });
  const payload = Buffer.alloc(4096, 0x46);
  for (let i = 0; i < 3000; i++) pub.publish("flood/data", payload, { qos: 0 });
  await cut;
  const m = await scrape(h);
  expect(m.get('twinfleet_broker_connections_cut_total{reason="queue-full"}')).toBe(1);
  frozen.destroy();
});

it("counts a connection that sends no CONNECT in time, and one over its address's pending limit", async () => {
  broker = await startBroker({ host: "127.0.0.1", port: 0, connectTimeoutMs: 300, maxPendingPerAddress: 1 });
  const h = await serve(broker);
  const silent = await rawSocket(broker.port);
  silent.on("error", () => {});
  // The first is pending (no CONNECT yet): a second from the same address is refused at accept.
  const second = await rawSocket(broker.port);
  second.on("error", () => {});
  await closed(second);
  await closed(silent);
  const m = await scrape(h);
  expect(m.get('twinfleet_broker_connections_refused_total{reason="pending"}')).toBe(1);
  expect(m.get('twinfleet_broker_connections_refused_total{reason="connect-timeout"}')).toBe(1);
  expect(m.get('twinfleet_broker_connections_accepted_total{listener="mqtt"}')).toBe(1);
});

it("counts a takeover of an id taken over already within 30 s apart from a first one", async () => {
  broker = await startBroker({ host: "127.0.0.1", port: 0 });
  const h = await serve(broker);
  const first = await connect(broker.url, { clientId: "dup" });
  const second = await connect(broker.url, { clientId: "dup" });
  await once(first, "close");
  const once1 = await scrape(h);
  expect(once1.get('twinfleet_broker_connections_cut_total{reason="takeover"}')).toBe(1);
  expect(once1.get("twinfleet_broker_takeovers_repeated_total")).toBe(0);
  // Taken again at once: two clients on one id.
  const third = await connect(broker.url, { clientId: "dup" });
  await once(second, "close");
  const twice = await scrape(h);
  expect(twice.get('twinfleet_broker_connections_cut_total{reason="takeover"}')).toBe(2);
  expect(twice.get("twinfleet_broker_takeovers_repeated_total")).toBe(1);
  // Another id's first takeover is not repeated.
  const other = await connect(broker.url, { clientId: "solo" });
  const back = await connect(broker.url, { clientId: "solo" });
  await once(other, "close");
  expect((await scrape(h)).get("twinfleet_broker_takeovers_repeated_total")).toBe(1);
  await Promise.all([third.endAsync(), back.endAsync()]);
});

it("counts a WebSocket upgrade request not whole within --connect-timeout, and answers it 408", async () => {
  broker = await startBroker({ host: "127.0.0.1", port: 0, wsPort: 0, connectTimeoutMs: 300 });
  const h = await serve(broker);
  const slow = await rawSocket(broker.wsPort as number);
  slow.on("error", () => {});
  const answer: Buffer[] = [];
  slow.on("data", (b: Buffer) => answer.push(b));
  slow.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"); // the headers never end
  await closed(slow);
  expect(Buffer.concat(answer).toString()).toMatch(/^HTTP\/1\.1 408 /);
  const m = await scrape(h);
  expect(m.get('twinfleet_broker_connections_refused_total{reason="ws-upgrade-timeout"}')).toBe(1);
  expect(m.get('twinfleet_broker_connections_refused_total{reason="connect-timeout"}')).toBe(0);
});

it("answers /healthz 200 while the store writes, 503 naming the data directory once it cannot", async () => {
  dir = await mkdtemp(join(tmpdir(), "twinfleet-broker-http-"));
  broker = await startBroker({ host: "127.0.0.1", port: 0, dataDir: dir });
  const h = await serve(broker);
  const ok = await fetch(`${h.origin}/healthz`);
  expect(ok.status).toBe(200);
  expect(await ok.json()).toEqual({ status: "ok", store: "level", clients: 0 });
  expect((await scrape(h)).get('twinfleet_broker_store_up{store="level"}')).toBe(1);

  const full = () => Promise.reject(new Error(`IO error: ${dir}/000003.log: No space left on device`));
  vi.spyOn(ClassicLevel.prototype, "put").mockImplementation(full);
  vi.spyOn(ClassicLevel.prototype, "del").mockImplementation(full);
  vi.spyOn(ClassicLevel.prototype, "batch").mockImplementation(full as never);
  const c = await connect(broker.url, { clientId: "n-1" });
  await c.publishAsync("tf/report/n-1", "R", { qos: 1, retain: true });

  // The retained write settles on its own, maybe after the PUBACK.
  const bad = await healthzUntil(h, 503);
  expect(bad.status).toBe(503);
  expect(bad.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  const p = (await bad.json()) as { status: number; detail: string };
  expect(p.status).toBe(503);
  expect(p.detail).toBe(
    `data directory ${dir} cannot be written (IO error: ${dir}/000003.log: No space left on device)`,
  );
  expect((await scrape(h)).get('twinfleet_broker_store_up{store="level"}')).toBe(0);

  // Writes succeed again: up again.
  vi.restoreAllMocks();
  await c.publishAsync("tf/report/n-1", "R2", { qos: 1, retain: true });
  expect((await healthzUntil(h, 200)).status).toBe(200);
});

it("answers /healthz 503 and the whole scrape, store_up 0, while the data directory's writes stop finishing", async () => {
  dir = await mkdtemp(join(tmpdir(), "twinfleet-broker-http-"));
  const sched = new FakeScheduler();
  broker = await startBroker({ host: "127.0.0.1", port: 0, dataDir: dir, scheduler: sched });
  const h = await serve(broker);
  const c = await connect(broker.url, { clientId: "n-1" });
  // A frozen file system holds LevelDB's write() in the kernel, and with it every thread of the pool
  // the store also reads on: puts and reads alike wait.
  const held: (() => void)[] = [];
  const put = vi
    .spyOn(ClassicLevel.prototype, "put")
    .mockImplementation(() => new Promise<void>((resolve) => held.push(resolve)));
  const waiting = () => new Promise<never>(() => {});
  const values = vi.spyOn(ClassicLevel.prototype, "values").mockImplementation(
    () =>
      ({
        [Symbol.asyncIterator]() {
          return this;
        },
        next: waiting,
        return: async () => ({ done: true, value: undefined }),
      }) as never,
  );
  c.publish("tf/report/n-1", "R", { qos: 0, retain: true });
  await vi.waitFor(() => expect(put).toHaveBeenCalled());
  sched.advance(5_000);

  const bad = await fetch(`${h.origin}/healthz`);
  expect(bad.status).toBe(503);
  expect(((await bad.json()) as { detail: string }).detail).toBe(
    `data directory ${dir} has finished no write for 5 s (1 waiting, the oldest a retained message for tf/report/n-1, for 5.0 s): its disk or file system is not answering`,
  );
  // The scrape's session count waits on the store at most 1 s: the rest of the scrape comes.
  const scraped = fetch(`${h.origin}/metrics`, { signal: AbortSignal.timeout(10_000) });
  await vi.waitFor(() => expect(values).toHaveBeenCalled());
  sched.advance(1_000);
  const r = await scraped;
  expect(r.status).toBe(200);
  expect(parsePrometheus(await r.text()).get('twinfleet_broker_store_up{store="level"}')).toBe(0);

  for (const resolve of held.splice(0)) resolve();
  vi.restoreAllMocks();
  expect((await healthzUntil(h, 200)).status).toBe(200);
});

it("answers /healthz 503 once the broker closes", async () => {
  broker = await startBroker({ host: "127.0.0.1", port: 0 });
  const h = await serve(broker);
  await broker.close();
  const r = await fetch(`${h.origin}/healthz`);
  expect(r.status).toBe(503);
  expect(((await r.json()) as { detail: string }).detail).toBe("the broker is closing");
});

it("answers other paths 404 and other methods 405 as problem+json; beyond loopback /metrics needs the token", async () => {
  broker = await startBroker({ host: "127.0.0.1", port: 0 });
  const h = await serve(broker, "0.0.0.0");
  const origin = `http://127.0.0.1:${h.port}`;
  const auth = { authorization: `Bearer ${TOKEN}` };

  const missing = await fetch(`${origin}/api/nodes`, { headers: auth });
  expect(missing.status).toBe(404);
  expect(missing.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(((await missing.json()) as { detail: string }).detail).toBe(
    "no route GET /api/nodes: this broker serves /metrics, /healthz and /backup",
  );
  // Nothing is written here: another method is a 405 before any token is asked for.
  const post = await fetch(`${origin}/metrics`, { method: "POST" });
  expect(post.status).toBe(405);
  expect(post.headers.get("allow")).toBe("GET, HEAD");
  expect(((await post.json()) as { detail: string }).detail).toBe(
    "POST is not allowed on /metrics; allowed: GET, HEAD",
  );

  const del = await fetch(`${origin}/healthz`, { method: "DELETE" });
  expect(del.status).toBe(405);
  expect(((await del.json()) as { detail: string }).detail).toBe(
    "DELETE is not allowed on /healthz; allowed: GET, HEAD",
  );

  const open = await fetch(`${origin}/metrics`);
  expect(open.status).toBe(401);
  expect(open.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(((await open.json()) as { detail: string }).detail).toMatch(
    /^a read beyond loopback needs Authorization: Bearer TOKEN \(the token given with --http-token/,
  );
  const wrong = await fetch(`${origin}/metrics`, {
    headers: { authorization: "Bearer not-the-token-at-all" },
  });
  expect(wrong.status).toBe(401);
  const right = await fetch(`${origin}/metrics`, { headers: auth });
  expect(right.status).toBe(200);
  parsePrometheus(await right.text());
  expect((await fetch(`${origin}/healthz`)).status).toBe(200);
  // A backup holds every retained message and session: beyond loopback it needs the token too.
  expect((await fetch(`${origin}/backup`)).status).toBe(401);
  const backup = await fetch(`${origin}/backup`, { headers: auth });
  expect(backup.status).toBe(409);
  expect(((await backup.json()) as { detail: string }).detail).toMatch(
    /^this broker keeps its store in memory/,
  );
});
