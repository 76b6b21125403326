/**
 * What the broker does when its store cannot write (a full disk, an I/O error): it keeps serving.
 * A will and a retained message are held in memory anyway (the client's will, the retained index),
 * so a failed write of one costs durability across a crash only: it is logged, not passed to aedes.
 * Passed on, a rejected storeRetained or putWill cut the publishing or connecting client, so on a
 * full data disk no node with a will could connect (and a rejected delWill ended the process, until
 * aedes's storeWill was patched to handle it: docs/broker.md "Patched Aedes"). Writes a session
 * needs (clean session 0 subscriptions, queued QoS 1/2) still fail to the client: it asked for
 * durability. The log says it once, then at most once a minute while writes keep failing, and once
 * more when a write succeeds again (node/failure-log.ts).
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

  constructor(where: string, logger: Logger, now: () => number = Date.now) {
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
    this.log.failed(err, { what });
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
      try {
        const result = await original(...args);
        if (writes) watch.succeeded();
        return result;
      } catch (err) {
        watch.failed(what, err);
        return undefined;
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
