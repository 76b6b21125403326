/**
 * A persistent session's queued QoS 1 messages, held in LevelDB across broker restarts, go out in
 * the order they were published [MQTT-4.6.0-2]. The store keys them by the broker's id, then a
 * counter: with a random id per start, messages queued after a restart went out ahead of those
 * queued before it about half the time.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClassicLevel } from "classic-level";
import { connect } from "mqtt";
import { afterEach, expect, it } from "vitest";
import { IndexedLevelPersistence } from "../level-store.js";
import { type RunningBroker, startBroker } from "../server.js";
import { client, closeAll } from "./helpers.js";

let broker: RunningBroker | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await broker?.close();
  broker = undefined;
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function dataDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "queue-order-"));
  dirs.push(d);
  return d;
}

it("sends a session's messages queued over six broker starts in the order they were published", async () => {
  const dir = await dataDir();
  const start = async () => {
    broker = await startBroker({ host: "127.0.0.1", port: 0, dataDir: dir });
    return broker.url;
  };
  let url = await start();
  const sleeper = await client(url, { clientId: "sleeper", clean: false });
  await sleeper.subscribeAsync("q", { qos: 1 });
  await closeAll(sleeper);
  const sent: string[] = [];
  for (let run = 0; run < 6; run++) {
    if (run > 0) {
      await broker?.close();
      url = await start();
    }
    const publisher = await client(url, { clientId: "pub" });
    for (const k of [0, 1]) {
      sent.push(`r${run}m${k}`);
      await publisher.publishAsync("q", `r${run}m${k}`, { qos: 1 });
    }
    // A QoS 1 publish is acknowledged once it is queued for every subscriber, the away one included.
    await closeAll(publisher);
  }
  // Listening before CONNACK: the queued messages follow it at once.
  const got: string[] = [];
  const back = connect(url, { clientId: "sleeper", clean: false, reconnectPeriod: 0 });
  back.on("message", (_t, payload) => void got.push(payload.toString()));
  for (let i = 0; got.length < sent.length && i < 250; i++) await new Promise((r) => setTimeout(r, 20));
  expect(got).toEqual(sent);
  await closeAll(back);
});

it("takes an id that sorts after every start whose messages are still queued", async () => {
  const dir = await dataDir();
  const db = new ClassicLevel<string, Buffer>(dir, { valueEncoding: "buffer" });
  await db.open();
  const store = new IndexedLevelPersistence(db, dir);
  const first = await store.startId();
  expect(first).toMatch(/^t000000000001-[0-9a-f-]{36}$/);
  // A store from before these ids (a random UUID) and two later starts.
  await db.put("outgoing:a:ffffffff-0000-4000-8000-000000000000:0000000000000001", Buffer.from("x"));
  await db.put(
    "outgoing:a:t000000000007-0e2d8a5c-0000-4000-8000-000000000000:0000000000000001",
    Buffer.from("x"),
  );
  await db.put("outgoing:b%3Ac:t000000000003-1b2c:0000000000000002", Buffer.from("x"));
  await db.put("outgoing-id:a:t000000000099-z:0000000000000001", Buffer.from("x"));
  const next = await store.startId();
  expect(next.startsWith("t000000000008-")).toBe(true);
  expect(next > "ffffffff-0000-4000-8000-000000000000").toBe(true);
  expect(next > "t000000000007-0e2d8a5c-0000-4000-8000-000000000000").toBe(true);
  await db.close();
});
