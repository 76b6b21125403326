/**
 * A topic's retained writes reach LevelDB in the order they were published, so the disk keeps the
 * last message the broker delivered. classic-level runs each write on a thread of its own, and two
 * writes of one key in flight at once finished in either order: after a kill -9 (or a power cut
 * taking the whole site) the broker came back with an older retained report or config than the one
 * it had delivered, and a site whose twins service restarted too had nothing to put the newer back.
 * The first test holds the database's writes and lets the later one finish first, as the threads
 * did now and then; the second is the whole path on real sockets, a broker killed and started again
 * on its directory.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClassicLevel } from "classic-level";
import type { MqttClient } from "mqtt";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { IndexedLevelPersistence } from "../level-store.js";
import type { RetainedPacket } from "../retained-index.js";
import { type RunningBroker, startBroker } from "../server.js";
import { client, closeAll } from "./helpers.js";

const packet = (topic: string, text: string): RetainedPacket =>
  ({
    cmd: "publish",
    topic,
    payload: Buffer.from(text),
    qos: 0,
    retain: true,
    messageId: 0,
    dup: false,
  }) as RetainedPacket;

let dir: string;
let brokers: RunningBroker[] = [];
let clients: MqttClient[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "twinfleet-write-order-"));
});
afterEach(async () => {
  await closeAll(...clients);
  for (const b of brokers) await b.close();
  brokers = [];
  clients = [];
  await rm(dir, { recursive: true, force: true });
});

type Db = ClassicLevel<string, Buffer>;

/**
 * The database with its writes held until `finishLatest()`, which lets the latest write still held
 * go on: held writes finish last-called first, the order the threads finished them in at worst.
 */
function heldWrites(db: Db): { db: Db; held: () => string[]; finishLatest: () => Promise<void> } {
  const queue: { key: string; go: () => void; done: Promise<void> }[] = [];
  const hold =
    (write: (...args: never[]) => Promise<void>) =>
    (key: string, ...rest: unknown[]): Promise<void> => {
      let go = () => {};
      const started = new Promise<void>((resolve) => {
        go = resolve;
      });
      const done = started.then(() => (write as (...a: unknown[]) => Promise<void>)(key, ...rest));
      queue.push({ key, go, done });
      return done;
    };
  const wrapped = new Proxy(db, {
    get(target, name, receiver) {
      if (name === "put") return hold(target.put.bind(target) as never);
      if (name === "del") return hold(target.del.bind(target) as never);
      const value = Reflect.get(target, name, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return {
    db: wrapped,
    held: () => queue.map((w) => w.key),
    finishLatest: async () => {
      const w = queue.pop();
      if (w === undefined) throw new Error("no write held");
      w.go();
      await w.done;
    },
  };
}

/** Every turn of the event loop's pending promise work, so that what can reach the database has. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A store on the directory whose database writes are held (`heldWrites`). */
async function heldStore(): Promise<{
  writes: ReturnType<typeof heldWrites>;
  store: IndexedLevelPersistence;
}> {
  const raw: Db = new ClassicLevel<string, Buffer>(dir, { valueEncoding: "buffer" });
  await raw.open();
  const writes = heldWrites(raw);
  const store = new IndexedLevelPersistence(writes.db, dir);
  await store.setup({ id: "writer" });
  return { writes, store };
}

/** Lets the held writes finish, the latest first, each with what it lets reach the database. */
async function finishAll(writes: ReturnType<typeof heldWrites>): Promise<void> {
  while (writes.held().length > 0) {
    await writes.finishLatest();
    await settle();
  }
}

/** The retained messages the directory holds once opened again, by topic. */
async function onDisk(): Promise<Map<string, string>> {
  const db: Db = new ClassicLevel<string, Buffer>(dir, { valueEncoding: "buffer" });
  await db.open();
  const store = new IndexedLevelPersistence(db, dir);
  await store.setup({ id: "reader" });
  const out = new Map<string, string>();
  for await (const p of store.createRetainedStream("#") as AsyncIterable<RetainedPacket>) {
    out.set(p.topic, Buffer.from(p.payload).toString());
  }
  await store.destroy();
  return out;
}

describe("a topic's retained writes on disk", () => {
  it("keep the last message published when the database finishes the later write first", async () => {
    const { writes, store } = await heldStore();

    const stored = [
      store.storeRetained(packet("tf/report/lamp-1", "R1 1 5 lamp-1")),
      store.storeRetained(packet("tf/report/lamp-1", "R1 0 6 lamp-1")),
      store.storeRetained(packet("tf/report/lamp-2", "R1 1 7 lamp-2")),
    ];
    await settle();
    // Another topic's write is not held up; the topic's second write waits for its first.
    expect(writes.held().sort()).toEqual(["retained:tf/report/lamp-1", "retained:tf/report/lamp-2"]);
    await finishAll(writes);
    await Promise.all(stored);
    expect(store.retained("tf/report/lamp-1")?.payload.toString()).toBe("R1 0 6 lamp-1");
    await store.destroy();

    expect(await onDisk()).toEqual(
      new Map([
        ["tf/report/lamp-1", "R1 0 6 lamp-1"],
        ["tf/report/lamp-2", "R1 1 7 lamp-2"],
      ]),
    );
  });

  it("a cleared message stays cleared behind a write of the topic still under way", async () => {
    const { writes, store } = await heldStore();
    const stored = [
      store.storeRetained(packet("tf/config/lamp-1", "C1 3 switch-7")),
      store.storeRetained(packet("tf/config/lamp-1", "")),
    ];
    await settle();
    await finishAll(writes);
    await Promise.all(stored);
    await store.destroy();
    expect(await onDisk()).toEqual(new Map());
  });

  it("a broker killed after delivering bursts of retained messages comes back with the last of each", async () => {
    const first = await startBroker({ host: "127.0.0.1", port: 0, dataDir: dir });
    brokers.push(first);
    const url = `mqtt://127.0.0.1:${first.port}`;
    const topics = Array.from({ length: 20 }, (_, i) => `tf/report/n-${String(i).padStart(4, "0")}`);
    const last = 150;
    const watcher = await client(url, { clientId: "watcher" });
    clients.push(watcher);
    const seen = new Map<string, number>();
    let allSeen: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      allSeen = resolve;
    });
    watcher.on("message", (topic, payload) => {
      seen.set(topic, Number(payload.toString().split(" ")[2]));
      if (seen.size === topics.length && [...seen.values()].every((n) => n === last)) allSeen();
    });
    await watcher.subscribeAsync("tf/report/+", { qos: 0 });
    const publishers: MqttClient[] = [];
    for (const t of topics) {
      const c = await client(url, { clientId: `pub-${t.slice(-6)}` });
      clients.push(c);
      publishers.push(c);
    }
    for (let n = 1; n <= last; n++) {
      for (const [i, t] of topics.entries())
        publishers[i]?.publish(t, `R1 ${n % 2} ${n} ${t.slice(-6)}`, { retain: true });
    }
    await done;
    await first.kill();
    brokers = brokers.filter((b) => b !== first);

    const second = await startBroker({ host: "127.0.0.1", port: 0, dataDir: dir });
    brokers.push(second);
    const reader = await client(`mqtt://127.0.0.1:${second.port}`, { clientId: "reader" });
    clients.push(reader);
    const retained = new Map<string, number>();
    let allRetained: () => void = () => {};
    const replayed = new Promise<void>((resolve) => {
      allRetained = resolve;
    });
    reader.on("message", (topic, payload) => {
      retained.set(topic, Number(payload.toString().split(" ")[2]));
      if (retained.size === topics.length) allRetained();
    });
    await reader.subscribeAsync("tf/report/+", { qos: 0 });
    await replayed;
    expect([...retained.entries()].filter(([, n]) => n !== last)).toEqual([]);
  });
});
