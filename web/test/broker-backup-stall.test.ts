/**
 * `GET /backup` with a client that stops reading half-way (a frozen script, a host gone without a
 * word): the broker goes on serving MQTT and `/healthz` meanwhile, and once the client has read
 * nothing for the stall time its connection is cut, the broker's log says why, and the next backup
 * is taken whole; meanwhile a second is refused naming it (HEAD too, which answered 200). Before,
 * the stuck one held the snapshot and refused every later backup (409) for as long as its
 * connection stayed open.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { BackupReader, type RunningBroker, startBroker } from "../../broker/index.js";
import { client, closeAll } from "../../broker/test/helpers.js";
import { FakeScheduler } from "../../node/scheduler.js";
import { type BrokerHttpServer, startBrokerHttp } from "../broker-server.js";

let dir: string | undefined;
let broker: RunningBroker | undefined;
let http: BrokerHttpServer | undefined;
let stuck: Socket | undefined;
afterEach(async () => {
  stuck?.destroy();
  await http?.close();
  await broker?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  dir = broker = http = stuck = undefined;
});

it("cuts a backup whose client reads nothing for the stall time, and takes the next one whole", async () => {
  dir = await mkdtemp(join(tmpdir(), "tf-backup-stall-"));
  broker = await startBroker({ host: "127.0.0.1", port: 0, dataDir: join(dir, "d") });
  const c = await client(broker.url);
  // 12 MB of retained messages: more than the kernel's buffers hold for a client that reads none.
  const payload = Buffer.alloc(30_000, 0x41);
  for (let i = 0; i < 400; i++) await c.publishAsync(`fleet/n-${i}/blob`, payload, { retain: true, qos: 1 });
  const scheduler = new FakeScheduler();
  const told: string[] = [];
  http = await startBrokerHttp({
    figures: broker.figures,
    host: "127.0.0.1",
    port: 0,
    token: "stall-token-0123456789",
    scheduler,
    onBackup: (o) => told.push("error" in o ? o.error : `sent ${o.summary.keys} keys`),
  });
  const { port } = http;

  // The stuck client: asks, reads the first bytes, then never reads again.
  const s = connect(port, "127.0.0.1");
  stuck = s;
  s.write(`GET /backup HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
  await new Promise<void>((r) => s.once("data", () => r()));
  s.pause();

  // Meanwhile the broker serves: /healthz, a message through MQTT, and one backup at a time.
  expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  scheduler.advance(3000);
  const other = await fetch(`http://127.0.0.1:${port}/backup`);
  expect(other.status).toBe(409);
  // Naming the one under way: to where, for how long, how far; HEAD answers the same.
  expect(((await other.json()) as { detail: string }).detail).toMatch(
    /^a backup of this broker is under way already, to 127\.0\.0\.1 for 3 s \([1-9]\d* bytes of it sent\): one at a time; take this one once it ends, or once its client has read nothing of it for 60 s \(it is cut then\)$/,
  );
  expect((await fetch(`http://127.0.0.1:${port}/backup`, { method: "HEAD" })).status).toBe(409);
  await c.publishAsync("fleet/n-1/state", "on", { qos: 1 });

  // The stall time passes on the route's clock, its check running each second of it.
  for (let i = 0; i < 3000 && told.length === 0; i++) {
    scheduler.advance(1000);
    await new Promise((r) => setTimeout(r, 20));
  }
  expect(told).toEqual([
    "the client read nothing of it for 60 s: its connection was cut, and the next backup may start",
  ]);

  const next = await fetch(`http://127.0.0.1:${port}/backup`);
  expect(next.status).toBe(200);
  const reader = new BackupReader();
  let keys = 0;
  for await (const chunk of next.body as unknown as AsyncIterable<Uint8Array>)
    for (const item of reader.push(Buffer.from(chunk))) if ("key" in item) keys++;
  expect(reader.ended).toBe(true);
  expect(keys).toBeGreaterThanOrEqual(400);
  expect(told[1]).toBe(`sent ${keys} keys`);
  await closeAll(c);
}, 120_000);
