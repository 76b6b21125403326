/**
 * The Redis backend of `twinfleet broker --redis URL`: several brokers sharing one Redis server act as
 * one broker. aedes-persistence-redis keeps sessions, subscriptions, queued QoS 1 messages, wills and
 * retained messages in Redis; mqemitter-redis carries every publish between the brokers over Redis
 * pub/sub (at most once: a message in flight when a broker or Redis dies is gone; docs/cluster.md).
 *
 * Redis must answer a PING when the broker starts, or the start fails with one line naming the URL;
 * one that takes the connection and does not answer holds the start, which is told (`step`).
 * When Redis goes away later the brokers keep running: their connections retry (ioredis), the loss
 * and the return are logged once each; requests wait meanwhile, and a publish that goes out before
 * the other brokers have subscribed again is lost. A Redis that refuses writes (at its maxmemory:
 * OOM) is logged as a full data directory is, and the brokers keep serving. A Redis that stops
 * answering with its sockets open (frozen) is told by PINGs that go unanswered (broker/redis-health.ts).
 */
import type { EventEmitter } from "node:events";
import { Readable } from "node:stream";
import AsyncRedisPersistence from "aedes-persistence-redis/asyncPersistence.js";
import { Redis, type RedisOptions } from "ioredis";
import MQEmitterRedis from "mqemitter-redis";
import type { Logger } from "pino";
import { RealScheduler, type Scheduler } from "../node/scheduler.js";
import type { StoreHealth } from "./figures.js";
import { redisConsoleQuieter } from "./redis-console.js";
import { RedisHealth } from "./redis-health.js";
import { redactRedisUrl, redisUrlProblem } from "./redis-url.js";
import { REDIS_NOT_ANSWERING, REDIS_SLOW, type StoreAnswers, type WaitedStore } from "./store-open-wait.js";
import { monotonicNow, type StoreFailureText, StoreWriteWatch, surviveStoreWrites } from "./store-writes.js";
import { type KeptWill, unsupersededWills } from "./superseded-wills.js";

/** Redis keeps no copy here: a will or retained message it did not take is gone. */
const REDIS_FAILURE: StoreFailureText = {
  kept: "the wills and retained messages it does not take are not kept (a retained message is lost, a will not published if its client dies)",
  advice: "raise its maxmemory (or set an eviction policy), or free memory on it",
};

/** How long the start waits for Redis to answer before it gives up. */
const PROBE_TIMEOUT_MS = 3000;
/** How long a connection dropped (the start's check, a stop) waits for its goodbye before it is cut. */
const PROBE_GOODBYE_MS = 100;
/** How long closing waits for Redis to say goodbye before the connections are dropped. */
const QUIT_TIMEOUT_MS = 2000;

/**
 * The package's persistence answers retained messages and a session's queue as async generators;
 * aedes 1.2 pipes the retained ones (`stream.pipe`), so both are handed over as streams.
 */
class StreamingRedisPersistence extends AsyncRedisPersistence {
  readonly #db: Redis;

  constructor(opts: { conn: Redis }) {
    super(opts);
    this.#db = opts.conn;
  }

  /**
   * Session state besides subscriptions, asked when a persistent client comes back without any
   * (aedes's patched restoreSubs, [MQTT-3.2.2-2]): QoS 1/2 messages queued for it (the package's list
   * `outgoing:<id>`) or an inbound QoS 2 one awaiting PUBREL (its keys `incoming:<id>:<message id>`,
   * found by a scan: Redis keeps no list of them).
   */
  async hasSessionState(client: { readonly id: string }): Promise<boolean> {
    const id = encodeURIComponent(client.id);
    if ((await this.#db.llen(`outgoing:${id}`)) > 0) return true;
    // encodeURIComponent leaves `*` as it is: a glob character.
    const match = `incoming:${id.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}:*`;
    let cursor = "0";
    do {
      const [next, keys] = await this.#db.scan(cursor, "MATCH", match, "COUNT", 1000);
      if (keys.length > 0) return true;
      cursor = next;
    } while (cursor !== "0");
    return false;
  }

  override createRetainedStreamCombi(patterns: readonly string[]): Readable {
    return Readable.from(super.createRetainedStreamCombi(patterns));
  }
  override createRetainedStream(pattern: string): Readable {
    return Readable.from(super.createRetainedStream(pattern));
  }
  override outgoingStream(client: { readonly id: string }): Readable {
    return Readable.from(super.outgoingStream(client));
  }
  /** Aedes's will clean-up reads this: a will its client replaced on a live member is deleted, not published. */
  override streamWill(brokers?: Readonly<Record<string, unknown>>): Readable {
    const all = () => super.streamWill() as AsyncIterable<KeptWill>;
    return Readable.from(unsupersededWills({ allWills: all, delWill: (c) => this.delWill(c) }, brokers));
  }
}

export interface RedisStore {
  readonly persistence: unknown;
  /** What to pass as aedes's `mq` option. */
  readonly mq: unknown;
  /** Silent, a connection down, or refusing writes; else up (for `/healthz` and `/metrics`). */
  health(): StoreHealth;
  /** The start's wait on Redis past its check (aedes's set-up), a stop dropping the connections. */
  readonly startWait: WaitedStore;
  close(): Promise<void>;
}

/**
 * The start's wait for Redis at `url`, as the lines name it; `cancel` ends it, `onAnswer` hears each
 * reply on the start's connections (broker/store-open-wait.ts).
 */
export const redisStartWait = (
  url: string,
  cancel: () => void,
  onAnswer?: StoreAnswers["onAnswer"],
): WaitedStore => ({
  where: `Redis at ${redactRedisUrl(url)}`,
  article: false,
  why: REDIS_NOT_ANSWERING,
  cancel,
  ...(onAnswer === undefined ? {} : { answers: { onAnswer, slowWhy: REDIS_SLOW } }),
});

/**
 * The start's steps on Redis, told while one waits: each with what ends it (the connection dropped)
 * and where Redis's replies on the start's connections are heard.
 */
export type RedisStartStep = (what: string, cancel: () => void, onAnswer: StoreAnswers["onAnswer"]) => void;

/**
 * Calls `answered` at each reply Redis sends `conn` (an error reply too; not a command failed by a
 * closed connection, which Redis never saw). A Redis that answers slowly (a big keyspace, a slow link)
 * keeps a step of the start past 5 s as a frozen one does: only its replies tell the two apart.
 */
export function hearReplies(conn: Redis, answered: () => void): void {
  const send = conn.sendCommand.bind(conn);
  conn.sendCommand = (command, stream) => {
    command.promise.then(answered, (err: unknown) => {
      if (err instanceof Error && err.name === "ReplyError") answered();
    });
    return send(command, stream);
  };
}

/** Redis's replies on the start's connections: `hear` listens to a connection's, told to `onAnswer`'s listener. */
interface HeardReplies {
  hear(conn: Redis): void;
  readonly onAnswer: StoreAnswers["onAnswer"];
}

function heardReplies(): HeardReplies {
  let listener: (() => void) | undefined;
  return {
    hear: (conn) => hearReplies(conn, () => listener?.()),
    onAnswer: (answered) => {
      listener = answered;
    },
  };
}

/**
 * One connection that does not retry: for the start's check only. A Redis that takes the connection
 * and never answers (stopped, paused, swapping) holds it with no timeout: `step` tells that wait, and
 * its `cancel` (a stop) drops the connection.
 */
async function probe(
  url: string,
  quiet: (conn: Redis) => void,
  replies: HeardReplies,
  step?: RedisStartStep,
): Promise<void> {
  const conn = new Redis(url, {
    lazyConnect: true,
    connectTimeout: PROBE_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    // Its goodbye is not waited for: a stop's end held the process 2 s (ioredis's default).
    disconnectTimeout: PROBE_GOODBYE_MS,
  });
  quiet(conn);
  replies.hear(conn);
  // A stop drops the connection (disconnect() alone waits for a goodbye a stopped Redis never
  // sends), or keeps it from being made when it came first.
  let stopped = false;
  step?.(
    "connecting and checking that it answers: INFO, PING",
    () => {
      stopped = true;
      conn.disconnect();
      conn.stream?.destroy();
    },
    replies.onAnswer,
  );
  if (stopped) throw new Error(`the start's check of Redis at ${redactRedisUrl(url)} was stopped`);
  // The socket's error (ECONNREFUSED, ENOTFOUND) says more than the rejection ("Connection is closed").
  let cause: Error | undefined;
  conn.on("error", (err: Error) => {
    cause ??= err;
  });
  try {
    await conn.connect();
    await conn.ping();
  } catch (err) {
    const why = (cause ?? (err as Error)).message;
    throw new Error(`Redis at ${redactRedisUrl(url)} cannot be reached: ${why}`);
  } finally {
    conn.disconnect();
  }
}

/** Logs a connection's loss once (not every retry), why it could not reconnect, and its return. */
function watch(conn: Redis, name: string, url: string, logger: Logger): void {
  const where = { redis: redactRedisUrl(url), connection: name };
  let down = false;
  let why: string | undefined;
  conn.on("close", () => {
    if (down || conn.status === "end") return;
    down = true;
    why = undefined;
    logger.error(where, "Redis connection lost; retrying (messages may be lost)");
  });
  conn.on("error", (err: Error) => {
    if (why === err.message) return;
    why = err.message;
    logger.warn({ ...where, err: err.message }, "Redis connection failed");
  });
  conn.on("ready", () => {
    if (!down) return;
    down = false;
    logger.warn(where, "Redis connection back");
  });
}

function closeConn(conn: Redis): Promise<void> {
  if (conn.status === "end") return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      conn.disconnect();
      resolve();
    }, QUIT_TIMEOUT_MS);
    conn.once("end", () => {
      clearTimeout(timer);
      resolve();
    });
    conn.quit().catch(() => conn.disconnect());
  });
}

/**
 * The store on Redis at `url`, its connections' silence checked on `scheduler` (broker/redis-health.ts).
 */
export async function openRedisStore(
  url: string,
  logger: Logger,
  scheduler: Scheduler = new RealScheduler(),
  step?: RedisStartStep,
): Promise<RedisStore> {
  const problem = redisUrlProblem(url);
  if (problem !== undefined) throw new Error(`--redis ${problem}`);
  // ioredis's own console lines (a password Redis does not need, …) told in the log, once.
  const quiet = redisConsoleQuieter(redactRedisUrl(url), logger);
  const replies = heardReplies();
  await probe(url, quiet, replies, step);
  // Requests wait while a connection is down (queued by ioredis) rather than failing at once; a
  // store write that still fails is an error aedes logs for that client.
  // A connection dropped (a stop while the start waits on a frozen Redis, a close past its QUIT's
  // timeout) waits no longer for a goodbye: ioredis's default 2 s held the stopped process 4 s.
  const options: RedisOptions = { maxRetriesPerRequest: null, disconnectTimeout: PROBE_GOODBYE_MS };
  const db = new Redis(url, options);
  const pubConn = new Redis(url, options);
  const subConn = new Redis(url, options);
  for (const conn of [db, pubConn, subConn]) {
    quiet(conn);
    replies.hear(conn);
  }
  watch(db, "store", url, logger);
  watch(pubConn, "publish", url, logger);
  watch(subConn, "subscribe", url, logger);
  // A frozen Redis keeps its sockets open: only unanswered PINGs tell it.
  const health = new RedisHealth(
    `Redis at ${redactRedisUrl(url)}`,
    { store: db, publish: pubConn, subscribe: subConn },
    scheduler,
    logger,
  );
  const persistence = new StreamingRedisPersistence({ conn: db });
  // Redis at its maxmemory answers OOM to every write: the broker keeps serving (store-writes.ts).
  const writes = new StoreWriteWatch(`Redis at ${redactRedisUrl(url)}`, logger, monotonicNow, REDIS_FAILURE);
  surviveStoreWrites(persistence, writes);
  // concurrency 0: every message dispatched at once, as for the in-process emitter (broker/server.ts).
  const mq = MQEmitterRedis({ pubConn, subConn, concurrency: 0 });
  // Its connections' errors are re-emitted here; the watchers above already logged them.
  (mq as unknown as { state: EventEmitter }).state.on("error", () => {});
  // aedes.close() closes the emitter, whose QUIT would wait for Redis forever while it is away: past
  // the timeout its connections are dropped and the close counts as done.
  const closeEmitter = mq.close.bind(mq);
  mq.close = (done: () => void) => {
    let called = false;
    const finish = () => {
      if (called) return;
      called = true;
      clearTimeout(timer);
      done();
    };
    const timer = setTimeout(() => {
      pubConn.disconnect();
      subConn.disconnect();
      finish();
    }, QUIT_TIMEOUT_MS);
    closeEmitter(finish);
  };
  let closing: Promise<void> | undefined;
  /** Its connections dropped by a stop while starting: there is no goodbye to wait for. */
  let dropped = false;
  return {
    persistence,
    mq,
    // A stop while the start waits on a frozen Redis: the connections are dropped, not said goodbye
    // to (a QUIT would wait 2 s each for an answer that never comes).
    startWait: redisStartWait(
      url,
      () => {
        health.stop();
        dropped = true;
        for (const conn of [db, pubConn, subConn]) {
          conn.disconnect();
          conn.stream?.destroy();
        }
      },
      replies.onAnswer,
    ),
    health() {
      const problem = health.problem() ?? writes.problem;
      return problem === undefined ? { up: true } : { up: false, problem };
    },
    close() {
      closing ??= (async () => {
        health.stop();
        if (dropped) return;
        // Its goodbye goes through Redis too: waited for no longer than a QUIT.
        const destroyed = persistence
          .destroy()
          .catch((err: Error) => logger.debug({ err }, "closing the Redis store"));
        await Promise.race([destroyed, new Promise((r) => setTimeout(r, QUIT_TIMEOUT_MS).unref())]);
        await Promise.all([closeConn(pubConn), closeConn(subConn), closeConn(db)]);
      })();
      return closing;
    },
  };
}
