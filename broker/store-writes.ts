/**
 * What the broker does when its store cannot write (a full disk, an I/O error): it keeps serving.
 * A will and a retained message are held in memory anyway (the client's will, the retained index),
 * so a failed write of one costs durability across a crash only: it is logged, not passed to aedes.
 * Passed on, a rejected storeRetained or putWill cut the publishing or connecting client, so on a
 * full data disk no node with a will could connect (and a rejected delWill ended the process, until
 * aedes's storeWill was patched to handle it: docs/broker.md "Patched Aedes"). Writes a session needs (clean
 * session 0 subscriptions, queued QoS 1/2) still fail to the client: it asked for durability.
 * The log says it once, then at most once a minute while writes keep failing, and once more when
 * a write succeeds again.
 */
import type { Logger } from "pino";

/** The writes whose failure the broker survives. */
interface SurvivableWrites {
  putWill(client: unknown, packet: unknown): Promise<unknown>;
  delWill(client: unknown): Promise<unknown>;
  storeRetained(packet: unknown): Promise<void>;
}

export const STORE_FAILURE_LOG_MS = 60_000;

export class StoreWriteWatch {
  private failing = false;
  private failedSinceLog = 0;
  private lastLog = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly where: string,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  failed(what: string, err: unknown): void {
    this.failedSinceLog++;
    const t = this.now();
    if (this.failing && t < this.lastLog + STORE_FAILURE_LOG_MS) return;
    const reason = err instanceof Error ? err.message : String(err);
    this.logger.error(
      { err: reason, failedWrites: this.failedSinceLog, what },
      this.failing
        ? `${this.where} still cannot be written; wills and retained messages are kept in memory only`
        : `${this.where} cannot be written (${reason}); the broker keeps serving, but wills and retained ` +
            "messages are kept in memory only (lost if it stops) and clean-session-0 subscriptions are " +
            "refused until it can write again: free space on it",
    );
    this.failing = true;
    this.failedSinceLog = 0;
    this.lastLog = t;
  }

  succeeded(): void {
    if (!this.failing) return;
    this.failing = false;
    this.failedSinceLog = 0;
    this.lastLog = Number.NEGATIVE_INFINITY;
    this.logger.warn(`${this.where} is written again`);
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
