/**
 * What the broker does when its store cannot write (a full disk, an I/O error): it keeps serving.
 * A will and a retained message are held in memory anyway (the client's will, the retained index),
 * so a failed write of one costs durability across a crash only: it is logged, not passed to aedes.
 * Passed on, a rejected storeRetained or putWill cut the publishing or connecting client, so on a
 * full data disk no node with a will could connect (and a rejected delWill ended the process, until
 * aedes's storeWill was patched to handle it: docs/broker.md "Patched Aedes"). Writes a session
 * needs (clean session 0 subscriptions, queued QoS 1/2) still fail to the client: it asked for
 * durability. The log says it once, then at most once a minute while writes keep failing, and once
 * more when a write succeeds again (node/failure-log.ts). Closing, the store waits for the writes
 * aedes makes after its own close has called back (each disconnected client's will published,
 * retained, then deleted) before the database closes; a write later still is dropped with a warning,
 * not taken for a disk that cannot write.
 */
import type { Logger } from "pino";
import { FAILURE_LOG_MS, FailureLog } from "../node/failure-log.js";

/** The writes whose failure the broker survives. */
interface SurvivableWrites {
  putWill(client: unknown, packet: unknown): Promise<unknown>;
  delWill(client: unknown): Promise<unknown>;
  storeRetained(packet: unknown): Promise<void>;
}

export const STORE_FAILURE_LOG_MS = FAILURE_LOG_MS;

/** The store's failing writes, logged (node/failure-log.ts); `where` names the store. */
export class StoreWriteWatch {
  private readonly log: FailureLog;
  private inFlight = 0;
  private lastActive = Number.NEGATIVE_INFINITY;
  private closed = false;
  private dropped = 0;

  constructor(
    private readonly where: string,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.log = new FailureLog(
      logger,
      {
        first: (reason) =>
          `${where} cannot be written (${reason}); the broker keeps serving, but wills and retained ` +
          "messages are kept in memory only (lost if it stops) and clean-session-0 subscriptions are " +
          "refused until it can write again: free space on it",
        still: `${where} still cannot be written; wills and retained messages are kept in memory only`,
        again: `${where} is written again`,
        countField: "failedWrites",
      },
      now,
    );
  }

  failed(what: string, err: unknown): void {
    if (!this.closed) this.log.failed(err, { what });
    else if (this.dropped++ === 0)
      this.logger.warn({ what }, `${this.where}: a write came after the store closed and was dropped`);
  }

  /** A write begins; `end()` when it has settled either way. */
  begin(): void {
    this.inFlight++;
    this.lastActive = this.now();
  }

  end(): void {
    this.inFlight--;
    this.lastActive = this.now();
  }

  /**
   * Resolves once no write has been under way for `quietMs` (a client's will is deleted only after it
   * is published and retained: the chain leaves gaps), or after `maxMs` whatever is under way.
   */
  settled(quietMs = 25, maxMs = 3_000): Promise<void> {
    const started = this.now();
    return new Promise((resolve) => {
      const check = () => {
        const t = this.now();
        if ((this.inFlight === 0 && t - this.lastActive >= quietMs) || t - started >= maxMs) resolve();
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
}

/** Makes `persistence`'s will and retained writes log a failure instead of rejecting. */
export function surviveStoreWrites(persistence: object, watch: StoreWriteWatch): void {
  const p = persistence as SurvivableWrites;
  // delWill writes nothing when there is no will to delete: its success says nothing.
  const guard = <A extends unknown[], R>(what: string, write: (...args: A) => Promise<R>, writes = true) => {
    const original = write.bind(p);
    return async (...args: A): Promise<R | undefined> => {
      watch.begin();
      try {
        const result = await original(...args);
        if (writes) watch.succeeded();
        return result;
      } catch (err) {
        watch.failed(what, err);
        return undefined;
      } finally {
        watch.end();
      }
    };
  };
  p.putWill = guard("putWill", p.putWill);
  p.delWill = guard("delWill", p.delWill, false);
  const storeRetained = guard("storeRetained", p.storeRetained);
  p.storeRetained = async (packet) => {
    await storeRetained(packet);
  };
}
