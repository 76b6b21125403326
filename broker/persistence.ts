/**
 * Where the broker keeps sessions, queued QoS 1 messages and retained messages: in memory or, with a
 * data directory, in an embedded LevelDB that survives a restart; both with an index of retained
 * topics (broker/retained-index.ts). Or in a Redis server shared with other brokers, which then also
 * carries the messages between them (broker/redis-store.ts). LevelDB and the Redis client are loaded
 * when a store needs them: a broker in memory starts without either.
 */
import type { Logger } from "pino";
import { removeOrphanProbes } from "../node/dir-probe.js";
import { isReadOnly, READ_ONLY_ADVICE } from "../node/failure-log.js";
import { dataDirError, makeDirAsync } from "../node/make-dir.js";
import { RealScheduler, type Scheduler } from "../node/scheduler.js";
import type { StoreHealth } from "./figures.js";
import { missingLog, missingLogMessage } from "./level-manifest.js";
import { IndexedMemoryPersistence } from "./memory-store.js";
import type { RetainedIndex } from "./retained-index.js";
import { type BackupSummary, backupStream } from "./store-backup.js";
import { StoreCloseWait } from "./store-close-wait.js";
import {
  dataDirectoryWait,
  StoppedWhileStarting,
  type StoreOpenWait,
  type WaitedStore,
} from "./store-open-wait.js";
import { StoreProbe } from "./store-probe.js";
import { StoreStallWatch } from "./store-stall.js";
import { StoreWriteWatch, surviveStoreWrites } from "./store-writes.js";

export type { StoreOpenWait };

export interface BrokerStore {
  /** What to pass as aedes's `persistence` option. */
  readonly persistence: unknown;
  /** What to pass as aedes's `mq` option; aedes's own in-process emitter when undefined. */
  readonly mq?: unknown;
  readonly kind: "memory" | "level" | "redis";
  /** Whether it answers and takes writes now, or what is wrong (read by `/healthz` and `/metrics`). */
  health(): StoreHealth;
  /** Retained messages held now, where that is cheap to tell (not Redis: shared, and a round trip). */
  retained?(): number;
  /** Every retained message this broker alone holds (not Redis), which its cap reads. */
  readonly retainedIndex?: RetainedIndex;
  /** What to pass as aedes's `id` (LevelDB: one that orders the queues, level-store.ts); random when undefined. */
  readonly brokerId?: string;
  /**
   * One snapshot of the whole store as a backup stream (broker/store-backup.ts): LevelDB alone. The
   * others say why they have none in `noBackup`.
   */
  backup?(): AsyncGenerator<Buffer, BackupSummary>;
  readonly noBackup?: string;
  /**
   * The broker begins to stop (before its clients' wills and times are stored): from now on a wait
   * on writes its disk does not answer is told (LevelDB: broker/store-close-wait.ts).
   */
  stopping?(): void;
  /**
   * What the start's steps past opening it wait on (Redis: aedes's set-up goes through it), its
   * `cancel` dropping the store's connections; absent where they wait on nothing outside.
   */
  readonly startWait?: WaitedStore;
  /** Releases the store (closes the database; LevelDB holds a lock on the directory until then). */
  close(): Promise<void>;
}

/** `scheduler`: the clock a stalled data directory (broker/store-stall.ts) and a silent Redis are timed on. */
export async function openStore(
  dataDir: string | undefined,
  redisUrl?: string,
  logger?: Logger,
  scheduler: Scheduler = new RealScheduler(),
  opening?: StoreOpenWait,
): Promise<BrokerStore> {
  if (redisUrl !== undefined) {
    if (dataDir !== undefined) throw new Error("a data directory and Redis exclude each other: give one");
    if (logger === undefined) throw new Error("a Redis store needs a logger");
    const { openRedisStore, redisStartWait } = await import("./redis-store.js");
    // Its check at the start waits on a Redis that takes the connection and does not answer: told.
    // The wait goes on past it: the start's later steps wait on Redis too (startBroker ends it).
    const store = await opened(
      () =>
        openRedisStore(redisUrl, logger, scheduler, (what, cancel, onAnswer) =>
          opening?.step(redisStartWait(redisUrl, cancel, onAnswer), what),
        ),
      opening,
      true,
    );
    return { ...store, kind: "redis", noBackup: NO_BACKUP_REDIS };
  }
  if (dataDir === undefined) {
    const persistence = new IndexedMemoryPersistence();
    return {
      persistence,
      kind: "memory",
      noBackup: NO_BACKUP_MEMORY,
      retainedIndex: persistence.index,
      health: () => UP,
      retained: () => persistence.retainedCount,
      close: () => persistence.destroy(),
    };
  }
  // Each step that writes or reads the directory is named: one a frozen disk holds is told.
  const where = dataDirectoryWait(dataDir);
  return opened(
    () => openLevelStore(dataDir, logger, scheduler, (what) => opening?.step(where, what)),
    opening,
  );
}

/**
 * The store `open` opens, its wait told by `opening` (and left under way when `goesOn`: the start's
 * later steps wait on it too). Stopped while it waited (for a data directory to answer, or for Redis,
 * whose wait the stop ends): it lets the store go, and starts nothing.
 */
async function opened<S extends { close(): Promise<void> }>(
  open: () => Promise<S>,
  opening: StoreOpenWait | undefined,
  goesOn = false,
): Promise<S> {
  let store: S;
  try {
    store = await open();
  } catch (err) {
    opening?.done();
    const stopped = opening?.stopping;
    if (stopped !== undefined) throw new StoppedWhileStarting(stopped);
    throw err;
  }
  if (!goesOn) opening?.done();
  const stopped = opening?.stopping;
  if (stopped === undefined) return store;
  opening?.done();
  await store.close();
  throw new StoppedWhileStarting(stopped);
}

async function openLevelStore(
  dataDir: string,
  logger: Logger | undefined,
  scheduler: Scheduler,
  step: (what: string) => void,
): Promise<BrokerStore> {
  step("making the directory");
  try {
    await makeDirAsync(dataDir);
  } catch (err) {
    throw dataDirError(dataDir, err);
  }
  // The async persistence directly: the package's main export wraps it in a callback API that
  // aedes 1.x no longer accepts.
  const [{ ClassicLevel }, { damagedStoreHint, IndexedLevelPersistence }, { LevelRepair }, recovery] =
    await Promise.all([
      import("classic-level"),
      import("./level-store.js"),
      import("./level-repair.js"),
      import("./level-recovery.js"),
    ]);
  // Looked at before the open, which writes a new log and manifest (classic-level opens on its own
  // in the tick after it is made).
  step("reading its files");
  const lostLog = await missingLog(dataDir);
  const db = new ClassicLevel<string, Buffer>(dataDir, { valueEncoding: "buffer" });
  step("opening it as a LevelDB store, which writes a new log and manifest");
  try {
    await db.open();
  } catch (err) {
    const cause = (err as { cause?: Error }).cause?.message ?? (err as Error).message;
    // Another broker's lock is not damage; a bad CURRENT or MANIFEST file is.
    // Opening writes (a new log and manifest): a full or read-only disk fails it.
    const hint = /corruption/i.test(cause)
      ? `; ${damagedStoreHint(cause)}`
      : /\block\b.*(temporarily unavailable|already held)/i.test(cause)
        ? "; another broker process holds it (`fuser -v DIR/LOCK` names it): stop that one, or give another --data"
        : isReadOnly(cause)
          ? `; ${READ_ONLY_ADVICE}`
          : /no space left on device/i.test(cause)
            ? "; free space on it"
            : "";
    throw new Error(`data directory ${dataDir} cannot be opened as a LevelDB store: ${cause}${hint}`);
  }
  if (lostLog !== undefined) logger?.warn({ dataDir, log: lostLog }, missingLogMessage(dataDir, lostLog));
  step("reading its files");
  const loss = await recovery.recoveryLoss(dataDir);
  if (loss !== undefined)
    logger?.warn({ dataDir, droppedBytes: loss.bytes }, recovery.recoveryLossMessage(dataDir, loss));
  const persistence = new IndexedLevelPersistence(db, dataDir);
  const retained = () => persistence.retainedCount;
  const backup = () => backupStream(db);
  step("reading its queued messages and writing this start's id");
  // A damaged table file may show here first: the directory is released for the next start.
  const brokerId = await persistence.startId().catch(async (err: unknown) => {
    await persistence.destroy().catch(() => {});
    throw err;
  });
  // The directory is this broker's now (LevelDB's lock): a test write a killed run left is removed.
  step("removing the test-write files a killed run left");
  const orphans = await removeOrphanProbes(dataDir, "broker").catch((err: unknown) => {
    logger?.warn({ err }, `${dataDir}: test-write files left by a previous run could not be removed`);
    return [];
  });
  if (orphans.length > 0)
    logger?.info({ files: orphans }, `${dataDir}: test-write files left by a killed run removed`);
  if (logger === undefined)
    return {
      persistence,
      brokerId,
      kind: "level",
      retainedIndex: persistence.index,
      health: () => UP,
      retained,
      backup,
      close: () => persistence.destroy(),
    };
  const where = `data directory ${dataDir}`;
  // The writes under way are timed on the scheduler, as their stall is.
  const watch = new StoreWriteWatch(where, logger, undefined, undefined, () => scheduler.now());
  // Writes that neither finish nor fail (a frozen or hung disk): told, and /healthz answers 503.
  const stall = new StoreStallWatch(where, watch, scheduler, logger);
  watch.onProgress = () => stall.progressed();
  // A directory remounted read-only or filled while nothing is written: a test write finds it.
  const probe = new StoreProbe(
    dataDir,
    {
      get problem() {
        return watch.problem ?? stall.problem;
      },
      failed: (what, err) => watch.failed(what, err),
      succeeded: () => watch.succeeded(),
      // Timed as the store's own writes: one the disk does not answer is its stall.
      began: (what) => watch.begin(what),
      ended: (token) => watch.end(token),
    },
    scheduler,
  );
  // Written again after failures: what followed the failed writes is made durable (level-repair.ts).
  const repair = new LevelRepair(db, dataDir, where, logger, undefined, watch);
  surviveStoreWrites(persistence, watch, { repair, retained: (topic) => persistence.retained(topic) });
  // The stall is still watched while the broker stops, and a wait on a disk that does not answer
  // told from the stop's beginning: the clients' last-seen times are saved before the store closes.
  let wait: StoreCloseWait | undefined;
  const stopping = () => {
    stall.stopping();
    wait ??= new StoreCloseWait(where, watch, scheduler, logger);
    return wait;
  };
  const close = async () => {
    probe.stop();
    const wait = stopping();
    try {
      await probe.settled();
      await watch.settled();
      // Its 3 s up with writes still under way: a disk that does not answer (told: store-close-wait.ts).
      // The close waits for them all, and for those queued behind them (a topic's next retained
      // message, a will's deletion once it is published), which begin only when the disk answers:
      // closed under them, they were dropped at the thaw and the next start had the older state.
      while (watch.writing > 0) await watch.settled();
      await repair.settled();
      wait.stored(stall.endedWhileStopping);
      watch.closing();
      await persistence.destroy();
    } finally {
      wait.stop();
      stall.stop();
    }
  };
  const health = (): StoreHealth => {
    const problem = watch.problem ?? stall.problem;
    return problem === undefined ? UP : { up: false, problem };
  };
  return {
    persistence,
    brokerId,
    kind: "level",
    retainedIndex: persistence.index,
    health,
    retained,
    backup,
    stopping: () => void stopping(),
    close,
  };
}

const UP: StoreHealth = { up: true };

/** Why a broker in memory has no backup to give. */
export const NO_BACKUP_MEMORY =
  "this broker keeps its store in memory (started without --data): nothing of it is on disk to back up, and it is gone when the broker stops; start the broker with --data DIR to keep one";
/** Why a broker on Redis has none. */
export const NO_BACKUP_REDIS =
  "this broker keeps its store in Redis (--redis), shared with the other brokers on it: back Redis itself up (`redis-cli --rdb FILE`, or its BGSAVE dump.rdb)";
