/**
 * The LevelDB store of the embedded broker: aedes-persistence-level, with the exact-topic index of
 * retained messages (broker/retained-index.ts). The package answers every SUBSCRIBE by reading and
 * decoding every retained key and testing it against the pattern, and a fleet's nodes subscribe to
 * exact topics several times each: a 200-node fleet's sync p99 was 730 ms with it against 19 ms in
 * memory, 21 ms with the index. The index is loaded once when aedes sets the store up and kept
 * current by storeRetained, and answers every subscription's retained messages, wildcards included:
 * the disk is read once. It holds every retained packet in memory too (a fleet's are a few hundred
 * bytes, three per node). A topic's writes reach the database one after the other, in the order of
 * the calls: LevelDB finishes concurrent writes in any order, so the disk could keep an older message
 * than the one the broker had delivered, and a restart brought it back.
 */
import { randomUUID } from "node:crypto";
import type { Readable } from "node:stream";
import LevelPersistence from "aedes-persistence-level/asyncPersistence.js";
import { RetainedIndex, type RetainedPacket } from "./retained-index.js";
import { type QueuedKey, requeueRollbackMessages } from "./rollback-queues.js";

/** What to do about a data directory LevelDB finds damaged. */
export const DAMAGED_STORE_HINT =
  "restore it from a backup, or move it away to start with an empty one (the retained messages, " +
  "sessions and wills it holds are lost)";

/**
 * What to do about a store whose manifest names table files that are not there. LevelDB replaces its
 * table files as it compacts, so a copy of a directory taken while its broker ran (cp -a, tar, a
 * backup tool) that reaches a table after the compaction removed it holds a manifest naming it: a
 * file-by-file copy of a busy store, 0.2-0.3 s a file, came out so in 17 of 26 tries.
 */
export function damagedStoreHint(cause: string): string {
  if (!/missing files/i.test(cause)) return DAMAGED_STORE_HINT;
  return (
    "table files its MANIFEST names are not there: a copy of a data directory taken while its broker ran " +
    "(LevelDB replaced them during the copy), or files removed from it. Take the copy again with the broker " +
    "stopped, or from the running broker with `twinfleet broker backup --http … --out DIR` (docs/broker.md " +
    '"Backing up the data directory"); ' +
    DAMAGED_STORE_HINT
  );
}

/** This module's keys: when a persistent session's client was last seen (broker/session-expiry.ts). */
const SEEN = "twinfleet-seen:";

/**
 * Every key starting with `prefix` (ending in ':'), as the package's own ranges: ';' follows ':' (a
 * suffix of '\xff' would skip non-ASCII keys).
 */
function prefixRange(prefix: string): { gte: string; lt: string } {
  return { gte: prefix, lt: `${prefix.slice(0, -1)};` };
}

export class IndexedLevelPersistence extends LevelPersistence {
  /** Every retained message held, in memory (the broker's cap reads it: broker/retained-cap.ts). */
  readonly index = new RetainedIndex();
  readonly #dataDir: string;
  readonly #db: ConstructorParameters<typeof LevelPersistence>[0];

  constructor(db: ConstructorParameters<typeof LevelPersistence>[0], dataDir: string) {
    super(db);
    this.#dataDir = dataDir;
    this.#db = db;
  }

  /**
   * Session state besides subscriptions: a queued QoS 1/2 message or an inbound QoS 2 one awaiting
   * PUBREL (the package's `outgoing:` and `incoming:` keys, one key read).
   */
  async hasSessionState(client: { id: string }): Promise<boolean> {
    for (const kind of ["outgoing", "incoming"]) {
      const range = { ...prefixRange(`${kind}:${encodeURIComponent(client.id)}:`), limit: 1 };
      for await (const _ of this.#db.keys(range)) return true;
    }
    return false;
  }

  /** Client ids with stored subscriptions (the package's `subscriptions:<client>:<topic>` keys). */
  async sessionIds(): Promise<readonly string[]> {
    const ids = new Set<string>();
    for await (const key of this.#db.keys(prefixRange("subscriptions:"))) {
      const end = key.indexOf(":", "subscriptions:".length);
      if (end > 0) ids.add(decodeURIComponent(key.slice("subscriptions:".length, end)));
    }
    return [...ids];
  }

  /** When each session's client was last seen: this module's own keys, beside the package's. */
  async loadSeen(): Promise<ReadonlyMap<string, number>> {
    const seen = new Map<string, number>();
    for await (const [key, value] of this.#db.iterator(prefixRange(SEEN))) {
      const at = Number(value.toString());
      if (Number.isFinite(at)) seen.set(decodeURIComponent(key.slice(SEEN.length)), at);
    }
    return seen;
  }

  async saveSeen(clientId: string, at: number | undefined): Promise<void> {
    const key = `${SEEN}${encodeURIComponent(clientId)}`;
    if (at === undefined) await this.#db.del(key);
    else await this.#db.put(key, Buffer.from(String(at)));
  }

  /**
   * An aedes id for this start that sorts after the id of every start whose messages are still
   * queued. The package keys a session's queued messages by broker id, then a counter that starts
   * again at 0, and sends them in key order: with aedes's random id (a UUID per start), messages
   * queued after a restart went out ahead of those queued before it half the time, against MQTT
   * 3.1.1's order of QoS 1 messages [MQTT-4.6.0-2]. `t` sorts after the UUIDs' hex digits.
   */
  async startId(): Promise<string> {
    const { counts, lastStart, keys } = await this.#readQueues();
    this.#heldAtStart = counts;
    // What an older build queued after a rollback goes after what this one had queued. Not a reason
    // to refuse the start (a full disk): at worst a message is left under both keys and sent twice,
    // as QoS 1 allows, and the id taken sorts after any moved.
    const last = await requeueRollbackMessages(this.#db, this, keys, lastStart).catch(() => lastStart + 1);
    return `t${String(last + 1).padStart(12, "0")}-${randomUUID()}`;
  }

  /**
   * Messages held for each session (the package's `outgoing:<client>:…` keys) at start: as startId()
   * read them, which the broker calls first, else read now.
   */
  async queuedCounts(): Promise<ReadonlyMap<string, number>> {
    return this.#heldAtStart ?? (await this.#readQueues()).counts;
  }

  #heldAtStart: ReadonlyMap<string, number> | undefined;

  /** Every queued message's key: how many each session holds, and the latest start that queued one. */
  async #readQueues(): Promise<{ counts: Map<string, number>; lastStart: number; keys: QueuedKey[] }> {
    const counts = new Map<string, number>();
    const keys: QueuedKey[] = [];
    let lastStart = 0;
    for await (const key of this.#keys("outgoing:")) {
      const [, client, brokerId] = key.split(":");
      if (client === undefined || brokerId === undefined) continue;
      keys.push({ key, client, brokerId });
      const id = decodeURIComponent(client);
      counts.set(id, (counts.get(id) ?? 0) + 1);
      const start = /^t(\d{12})-/.exec(brokerId)?.[1];
      if (start !== undefined) lastStart = Math.max(lastStart, Number(start));
    }
    return { counts, lastStart, keys };
  }

  /** Drops a session's queue, sent or not (the package clears one message by its message id only). */
  async dropQueue(clientId: string): Promise<number> {
    let queued = 0;
    const byCounter = prefixRange(`outgoing:${encodeURIComponent(clientId)}:`);
    for await (const _ of this.#db.keys(byCounter)) queued++;
    await this.#db.clear(byCounter);
    await this.#db.clear(prefixRange(`outgoing-id:${encodeURIComponent(clientId)}:`));
    return queued;
  }

  override async setup(broker: unknown): Promise<void> {
    // Opening reads the log and the manifest only: a damaged table file shows when it is read, here.
    try {
      await super.setup(broker);
      // "#" matches every retained topic: the package's own scan, read once.
      for await (const packet of super.createRetainedStream("#") as AsyncIterable<RetainedPacket>) {
        this.index.store(packet);
      }
    } catch (err) {
      throw this.#unreadable(err);
    }
  }

  #unreadable(err: unknown): Error {
    return new Error(
      `data directory ${this.#dataDir} cannot be read as a LevelDB store: ${(err as Error).message}; ${DAMAGED_STORE_HINT}`,
    );
  }

  /** Every key of a range; a damaged table file read on the way fails as setup() says it. */
  async *#keys(prefix: string): AsyncIterable<string> {
    try {
      for await (const key of this.#db.keys(prefixRange(prefix))) yield key;
    } catch (err) {
      throw this.#unreadable(err);
    }
  }

  /** Retained topics held by the index (for tests and logs). */
  get retainedCount(): number {
    return this.index.size;
  }

  /** The retained packet the broker holds for `topic` now (the index is written before the disk). */
  retained(topic: string): RetainedPacket | undefined {
    return this.index.get(topic);
  }

  /** Each topic's latest database write still under way: the topic's next write waits for it. */
  readonly #writing = new Map<string, Promise<void>>();

  override async storeRetained(packet: RetainedPacket): Promise<void> {
    // The index follows the order of the calls (publish order), and so does the disk: classic-level
    // runs each write on a thread of its own, and two writes of one key in flight at once finished
    // in either order, so the older message was the one left on disk now and then (1 of 50 topics
    // after bursts of 300 retained publishes each, then kill -9: the broker brought back a state
    // older than the one it had delivered). Writes of different topics still run at once.
    this.index.store(packet);
    const put = () => super.storeRetained(packet);
    // After the topic's write under way, whether it succeeded or failed (its caller hears of that).
    const before = this.#writing.get(packet.topic);
    const write = before === undefined ? put() : before.then(put, put);
    this.#writing.set(packet.topic, write);
    try {
      await write;
    } finally {
      if (this.#writing.get(packet.topic) === write) this.#writing.delete(packet.topic);
    }
  }

  override createRetainedStreamCombi(patterns: readonly string[]): Readable {
    return this.index.answer(patterns);
  }

  override createRetainedStream(pattern: string): Readable {
    return this.index.answer([pattern]);
  }
}
