/**
 * The outbound side of every connection. Aedes waits for a client's socket to drain before it calls
 * a delivery done, and a publisher's next packet waits for every delivery of the previous one: one
 * subscriber that stops reading (a frozen tool on `tf/#`) held up every publisher until aedes's drain
 * timeout cut it. Here aedes's writes are taken at once and handed to the socket, which queues what
 * it cannot send yet; a client is cut alone when its queue passes `maxQueuedBytes`, or when its socket
 * has taken nothing for `drainTimeoutMs` while bytes wait.
 */
import type { Writable } from "node:stream";

/** Time for the stall check, injectable so that tests need not wait. */
export interface OutboundClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** Runs `fn` once the I/O that is ready now has been handled (setImmediate). */
  afterIo(fn: () => void): void;
}

export const systemClock: OutboundClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  afterIo: (fn) => void setImmediate(fn),
};

export interface OutboundLimits {
  /** Bytes that may wait in the broker for one client before it is cut. */
  readonly maxQueuedBytes: number;
  /** How long bytes may wait with none of them taken by the socket before the client is cut. */
  readonly drainTimeoutMs: number;
  readonly clock?: OutboundClock;
}

/** Why a connection was cut on its outbound side. */
export type OutboundViolation =
  | { readonly kind: "queue-full"; readonly queuedBytes: number; readonly limit: number }
  | { readonly kind: "stalled"; readonly queuedBytes: number; readonly stalledMs: number };

export class OutboundLimitError extends Error {
  override readonly name = "OutboundLimitError";
  constructor(readonly violation: OutboundViolation) {
    super(
      violation.kind === "queue-full"
        ? `${violation.queuedBytes} bytes queued for this client exceed the ${violation.limit}-byte limit (it reads too slowly or not at all)`
        : `this client's socket took nothing for ${Math.round(violation.stalledMs)} ms with ${violation.queuedBytes} bytes queued`,
    );
  }
}

/**
 * Writes to `inner` without ever waiting for it, and watches what it has not sent yet
 * (`writableLength`: bytes the socket holds beyond what the kernel took). Calls `onViolation` once
 * when a limit is passed; the caller destroys the connection.
 */
export class OutboundGuard {
  readonly #inner: Writable;
  readonly #limits: OutboundLimits;
  readonly #clock: OutboundClock;
  readonly #onViolation: (err: OutboundLimitError) => void;
  #timer: unknown;
  #lastProgress = 0;
  #done = false;

  constructor(inner: Writable, limits: OutboundLimits, onViolation: (err: OutboundLimitError) => void) {
    this.#inner = inner;
    this.#limits = limits;
    this.#clock = limits.clock ?? systemClock;
    this.#onViolation = onViolation;
    inner.on("drain", this.#stopTimer);
  }

  /** Bytes written but not yet taken by the socket. */
  get queuedBytes(): number {
    return this.#inner.writableLength;
  }

  write(chunk: Buffer): void {
    if (this.#done) return;
    this.#inner.write(chunk, this.#flushed);
    const queuedBytes = this.#inner.writableLength;
    if (queuedBytes > this.#limits.maxQueuedBytes) {
      this.#cut({ kind: "queue-full", queuedBytes, limit: this.#limits.maxQueuedBytes });
      return;
    }
    if (this.#inner.writableNeedDrain && this.#timer === undefined) {
      this.#lastProgress = this.#clock.now();
      this.#timer = this.#clock.setTimeout(this.#check, this.#limits.drainTimeoutMs);
    }
  }

  /** Stops watching (the connection is gone). */
  dispose(): void {
    this.#done = true;
    this.#stopTimer();
    this.#inner.off("drain", this.#stopTimer);
  }

  /** A chunk reached the kernel: the client is reading, however slowly. */
  readonly #flushed = (err?: Error | null): void => {
    if (!err) this.#lastProgress = this.#clock.now();
  };

  readonly #stopTimer = (): void => {
    if (this.#timer === undefined) return;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  };

  readonly #check = (): void => {
    if (this.#done || !this.#inner.writableNeedDrain) {
      this.#timer = undefined;
      return;
    }
    const idle = this.#clock.now() - this.#lastProgress;
    if (idle < this.#limits.drainTimeoutMs) {
      this.#timer = this.#clock.setTimeout(this.#check, this.#limits.drainTimeoutMs - idle);
      return;
    }
    // Timers run before the event loop polls for I/O: if this thread was busy for a while, the
    // socket may have taken bytes that are not reported yet. Judge once those reports are in.
    // #timer stays set meanwhile, so write() arms no second check; a drain clears it, and then
    // this judgement is off.
    const armed = this.#timer;
    this.#clock.afterIo(() => {
      if (this.#timer === armed) this.#confirm();
    });
  };

  readonly #confirm = (): void => {
    this.#timer = undefined;
    if (this.#done || !this.#inner.writableNeedDrain) return;
    const idle = this.#clock.now() - this.#lastProgress;
    if (idle >= this.#limits.drainTimeoutMs) {
      this.#cut({ kind: "stalled", queuedBytes: this.#inner.writableLength, stalledMs: idle });
    } else {
      this.#timer = this.#clock.setTimeout(this.#check, this.#limits.drainTimeoutMs - idle);
    }
  };

  #cut(violation: OutboundViolation): void {
    this.dispose();
    this.#onViolation(new OutboundLimitError(violation));
  }
}
