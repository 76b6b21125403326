/**
 * What the broker does when its store cannot write (a full disk, an I/O error): it keeps serving.
 * A will and a retained message are held in memory anyway (the client's will, the retained index),
 * so a failed write of one costs durability across a crash only: it is logged, not passed to aedes.
 * Passed on, a rejected storeRetained or putWill cut the publishing or connecting client, so on a
 * full data disk no node with a will could connect (and a rejected delWill ended the process, until
 * aedes's storeWill was patched to handle it: docs/broker.md "Patched Aedes"). A QoS 1/2 message
 * queued for an offline persistent session is that session's loss, not its publisher's: a failed
 * enqueue is logged and the message dropped for the offline sessions (passed on, it cut the
 * publisher, so one tool's session left on `#` cut every node and the twins off a full disk). The
 * writes a client's own session needs (its subscriptions, its own QoS 2 in flight) still fail to it:
 * it asked for durability. The log says it once, then at most once a minute while writes keep failing, and once
 * more when a write succeeds again (node/failure-log.ts). Closing, the store waits for the writes
 * aedes makes after its own close has called back (each disconnected client's will published,
 * retained, then deleted) before the database closes; a write later still is dropped with a warning,
 * not taken for a disk that cannot write.
 */
import type { Logger } from "pino";
import { FAILURE_LOG_MS, FailureLog, isReadOnly, READ_ONLY_ADVICE } from "../node/failure-log.js";
import { WritesUnderWay } from "../node/writes-under-way.js";
import type { LevelRepair } from "./level-repair.js";
import type { RetainedPacket } from "./retained-index.js";
import { storeWriteName } from "./store-write-names.js";

/**
 * The clock the failures' log and the settling are timed on: monotonic, so a step of the host's
 * clock (NTP setting it, an operator putting it back an hour) neither silences the log nor ends a wait.
 */
export const monotonicNow = (): number => performance.now();

/** The writes whose failure the broker survives. */
interface SurvivableWrites {
  putWill(client: unknown, packet: unknown): Promise<unknown>;
  delWill(client: unknown): Promise<unknown>;
  storeRetained(packet: unknown): Promise<void>;
}

export const STORE_FAILURE_LOG_MS = FAILURE_LOG_MS;

/** What a store's failing writes cost, and what frees it: the words of its failure log. */
export interface StoreFailureText {
  /** What becomes of a will or retained message whose write failed. */
  readonly kept: string;
  /** What the operator can do. */
  readonly advice: string;
  /** What instead when the file system is mounted read-only, where freeing space does nothing. */
  readonly readOnlyAdvice?: string;
}

/** A data directory's: the broker holds wills and retained messages in memory anyway. */
export const DATA_DIR_FAILURE: StoreFailureText = {
  kept: "wills and retained messages are kept in memory only (lost if it stops)",
  advice: "free space on it",
  readOnlyAdvice: READ_ONLY_ADVICE,
};

/** The store's failing writes, logged (node/failure-log.ts); `where` names the store. */
export class StoreWriteWatch {
  private readonly log: FailureLog;
  /** The writes under way, named (broker/store-write-names.ts): the oldest is the one a stall names. */
  readonly underWay: WritesUnderWay<string>;
  private lastActive = Number.NEGATIVE_INFINITY;
  private closed = false;
  private dropped = 0;
  private lastReason = "";

  constructor(
    private readonly where: string,
    private readonly logger: Logger,
    private readonly now: () => number = monotonicNow,
    text: StoreFailureText = DATA_DIR_FAILURE,
    /** The clock the writes under way are timed on (the stall watch's scheduler). */
    underWayNow: () => number = now,
  ) {
    this.underWay = new WritesUnderWay(underWayNow);
    this.log = new FailureLog(
      logger,
      {
        first: (reason) =>
          `${where} cannot be written (${reason}); the broker keeps serving, but ${text.kept} and ` +
          `clean-session-0 subscriptions are refused until it can write again: ${(isReadOnly(reason) && text.readOnlyAdvice) || text.advice}`,
        still: `${where} still cannot be written; ${text.kept}`,
        again: `${where} is written again`,
        countField: "failedWrites",
      },
      now,
    );
  }

  failed(what: string, err: unknown): void {
    if (!this.closed) {
      this.lastReason = err instanceof Error ? err.message : String(err);
      this.log.failed(err, { what });
    } else if (this.dropped++ === 0)
      this.logger.warn({ what }, `${this.where}: a write came after the store closed and was dropped`);
  }

  /** A write begins (`what`: as a stall names it); `end(token)` when it has settled either way. */
  begin(what: string): number {
    const token = this.underWay.begin(what);
    if (this.underWay.size === 1) this.onProgress?.();
    this.lastActive = this.now();
    return token;
  }

  end(token: number): void {
    this.underWay.end(token);
    this.lastActive = this.now();
    this.onProgress?.();
  }

  /** Writes under way now (broker/store-stall.ts reads it). */
  get writing(): number {
    return this.underWay.size;
  }

  /**
   * Called when a write settles, and when one begins while none was under way: the moments from
   * which a stalled store is timed (broker/store-stall.ts).
   */
  onProgress: (() => void) | undefined;

  /**
   * Resolves once no write has been under way for `quietMs` (a client's will is deleted only after it
   * is published and retained: the chain leaves gaps), or after `maxMs` whatever is under way.
   */
  settled(quietMs = 25, maxMs = 3_000): Promise<void> {
    const started = this.now();
    return new Promise((resolve) => {
      const check = () => {
        const t = this.now();
        if ((this.underWay.size === 0 && t - this.lastActive >= quietMs) || t - started >= maxMs) resolve();
        else setTimeout(check, quietMs);
      };
      check();
    });
  }

  /** The store is closing: a write failing from now on came too late, and is not the disk's fault. */
  closing(): void {
    this.closed = true;
  }

  succeeded(): void {
    this.log.succeeded();
  }

  /** While the last write failed: the store named, and why (for `/healthz`). */
  get problem(): string | undefined {
    return this.log.failing ? `${this.where} cannot be written (${this.lastReason})` : undefined;
  }
}

/** Writes for offline sessions on a publish: a failure drops the message for them, not the publisher. */
const OFFLINE_QUEUE_WRITES = ["outgoingEnqueue", "outgoingEnqueueCombi"] as const;

/** The store's other writes: each fails to its client, and a failed one leaves LevelDB's log with a hole. */
const OTHER_WRITES = [
  "addSubscriptions",
  "removeSubscriptions",
  "cleanSubscriptions",
  ...OFFLINE_QUEUE_WRITES,
  "outgoingUpdate",
  "outgoingClearMessageId",
  "incomingStorePacket",
  "incomingDelPacket",
  "cleanIncoming",
  // Session expiry's (broker/session-expiry.ts): a session's time last seen, saved as its client
  // leaves, the stop included, and its queue dropped at expiry. Untracked, a stop on a frozen disk
  // waited on them before the store's close with nothing said, and a stall did not name them.
  "saveSeen",
  "dropQueue",
] as const;

/** A write the disk refused (LevelDB's IO error), not a key that was not there. */
function isWriteFailure(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  return e?.code === "LEVEL_IO_ERROR" || (typeof e?.message === "string" && e.message.startsWith("IO error"));
}

/** A LevelDB store's repair once it writes again (broker/level-repair.ts) and the retained messages it holds. */
export interface StoreRepair {
  readonly repair: LevelRepair;
  readonly retained: (topic: string) => RetainedPacket | undefined;
}

/**
 * Makes `persistence`'s will and retained writes log a failure instead of rejecting, and its other
 * writes log theirs before rejecting. With `repair`, a will or retained write that succeeds after
 * failures starts it (a fleet writes retained messages all the time).
 */
export function surviveStoreWrites(persistence: object, watch: StoreWriteWatch, repair?: StoreRepair): void {
  const p = persistence as SurvivableWrites & Record<(typeof OTHER_WRITES)[number], unknown>;
  const succeeded = (retainedTopic?: string) => {
    watch.succeeded();
    repair?.repair.succeeded(retainedTopic);
  };
  // delWill writes nothing when there is no will to delete: its success says nothing.
  const guard = <A extends unknown[], R>(
    what: string,
    write: (...args: A) => Promise<R>,
    writes = true,
    topicOf: (...args: A) => string | undefined = () => undefined,
  ) => {
    const original = write.bind(p);
    return async (...args: A): Promise<{ ok: boolean; result?: R }> => {
      const token = watch.begin(storeWriteName(what, args));
      try {
        const result = await original(...args);
        if (writes) succeeded(topicOf(...args));
        return { ok: true, result };
      } catch (err) {
        watch.failed(what, err);
        repair?.repair.failed(topicOf(...args), err);
        return { ok: false };
      } finally {
        watch.end(token);
      }
    };
  };
  const putWill = guard("putWill", p.putWill);
  const delWill = guard("delWill", p.delWill, false);
  const storeRetained = guard(
    "storeRetained",
    p.storeRetained,
    true,
    (packet) => (packet as RetainedPacket).topic,
  );
  p.putWill = async (client, packet) => (await putWill(client, packet)).result;
  p.delWill = async (client) => (await delWill(client)).result;
  p.storeRetained = async (packet) => {
    await storeRetained(packet);
  };
  // A topic's retained message as the broker holds it now (none: its deletion), written again.
  repair?.repair.storeWith(
    async (topic) => (await storeRetained(repair.retained(topic) ?? { topic, payload: Buffer.alloc(0) })).ok,
  );
  for (const name of OTHER_WRITES) {
    const write = p[name];
    if (typeof write !== "function") continue;
    const original = (write as (...args: unknown[]) => Promise<unknown>).bind(p);
    p[name] = async (...args: unknown[]) => {
      const token = watch.begin(storeWriteName(name, args));
      try {
        // Its success says nothing of the disk: some of these write nothing (no packet to clear).
        return await original(...args);
      } catch (err) {
        if (!isWriteFailure(err)) throw err;
        watch.failed(name, err);
        repair?.repair.failed(undefined, err);
        if ((OFFLINE_QUEUE_WRITES as readonly string[]).includes(name)) return undefined;
        throw err;
      } finally {
        watch.end(token);
      }
    };
  }
}
