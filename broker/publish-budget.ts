/**
 * The per-client publish budget: how many PUBLISH packets, and how many bytes of them, one connection
 * may have read per second. Aedes reads whatever a socket holds and handles every PUBLISH in it at
 * once, so one client sending 10,000 retained QoS 1 messages in a burst put 10,000 store writes and
 * deliveries ahead of every other client's traffic. Here the packets past the budget are held, whole
 * and in order, and the connection's socket is not read until the budget has room again: TCP then
 * slows the sender down. Nothing is dropped or refused. `PublishBudget` is the two token buckets;
 * `PublishPacer` sits on one connection's inbound path (broker/frame-limit.ts), after the conformance
 * gate, which hands it whole packets only.
 */
import { TokenBucket } from "../node/token-bucket.js";
import { frameSize } from "./conformance.js";
import type { OutboundClock } from "./outbound.js";

/** What one connection may publish: a sustained rate with a burst, and a byte rate. */
export interface PublishBudgetLimits {
  /** PUBLISH packets per second, on average. */
  readonly publishRate: number;
  /** PUBLISH packets a connection may send at once before the rate applies. */
  readonly publishBurst: number;
  /** Bytes of PUBLISH packets per second (and at once), headers included. */
  readonly publishBytesRate: number;
}

const PUBLISH = 3;
/** An empty queue, shared: a connection that holds nothing allocates nothing for it. */
const NOTHING = Buffer.alloc(0);
/**
 * A held connection is read again once its budget has this long's worth of room (or its whole burst):
 * a pause of at least some 100 ms rather than a timer per message.
 */
export const RESUME_AFTER_MS = 100;

/** Two token buckets, messages and bytes, refilled from the clock they are asked with. */
export class PublishBudget {
  readonly #messages: TokenBucket;
  readonly #bytes: TokenBucket;

  constructor(
    readonly limits: PublishBudgetLimits,
    now: number,
  ) {
    this.#messages = new TokenBucket(limits.publishRate, limits.publishBurst, now);
    this.#bytes = new TokenBucket(limits.publishBytesRate, limits.publishBytesRate, now);
  }

  #refill(now: number): void {
    this.#messages.refill(now);
    this.#bytes.refill(now);
  }

  /**
   * Takes one PUBLISH of `bytes` if the budget has room for it now. The byte bucket may go below
   * zero by one packet, so a packet larger than the byte budget still passes when the bucket is full.
   */
  take(bytes: number, now: number): boolean {
    this.#refill(now);
    if (this.#messages.level < 1 || this.#bytes.level <= 0) return false;
    this.#messages.level -= 1;
    this.#bytes.level -= bytes;
    return true;
  }

  /** When a held connection is to be read again: its budget then has RESUME_AFTER_MS's worth of room. */
  resumeAt(now: number): number {
    this.#refill(now);
    const l = this.limits;
    const wantMessages = Math.min(l.publishBurst, Math.max(1, (l.publishRate * RESUME_AFTER_MS) / 1000));
    const wantBytes = Math.min(l.publishBytesRate, (l.publishBytesRate * RESUME_AFTER_MS) / 1000);
    const wait = Math.max(
      this.#messages.level >= wantMessages
        ? 0
        : ((wantMessages - this.#messages.level) / l.publishRate) * 1000,
      this.#bytes.level >= wantBytes ? 0 : ((wantBytes - this.#bytes.level) / l.publishBytesRate) * 1000,
    );
    return now + Math.max(1, wait);
  }
}

/** A connection's budget as broker/frame-limit.ts takes it, with what the broker is told of its holds. */
export interface PublishPacing {
  readonly limits: PublishBudgetLimits;
  readonly clock?: OutboundClock;
  /** `conn` is held for its budget (its socket not read) or let go. */
  hold?(conn: object, on: boolean): void;
  /** `n` PUBLISH packets from `conn` arrived past its budget. */
  held?(conn: object, n: number): void;
}

/**
 * PUBLISH packets handed to aedes at a time. Aedes handles a read's packets together and reads again
 * once all are done, so a client's packets reach the store and the event loop at most this many at
 * a time and every other connection's packets are read in between: a burst within the budget takes
 * turns with everyone else's traffic instead of going ahead of it.
 */
export const PUBLISHES_PER_READ = 32;

/** What a pacer tells its connection. */
export interface PacerOutput {
  /** Whole packets to hand on to aedes, in order. */
  push(packets: Buffer): void;
  /** The end of the connection's input, once every packet before it was handed on. */
  end(): void;
  /** Whether the socket is to be read: false while packets wait (for aedes, or for the budget). */
  reading(on: boolean): void;
  /** The connection is held for its budget, or let go. */
  hold(on: boolean): void;
  /** `n` PUBLISH packets arrived past the budget and wait. */
  held(n: number): void;
}

function publishesIn(buf: Buffer): number {
  let n = 0;
  for (let at = 0; at < buf.length; ) {
    const size = frameSize(buf.subarray(at));
    if (size === undefined) break;
    if (buf[at]! >> 4 === PUBLISH) n++;
    at += size.total;
  }
  return n;
}

/**
 * One connection's inbound packets, handed to aedes when it asks for more (`read`), at most
 * PUBLISHES_PER_READ publishes at a time and within the budget; past the budget they wait for it.
 */
export class PublishPacer {
  readonly #budget: PublishBudget;
  /** Whole packets read and not yet handed on, in order. */
  #queue: Buffer = NOTHING;
  /** Aedes asked for more since the last hand-on. */
  #wanted = false;
  #timer: unknown;
  #ended = false;
  #closed = false;
  /** A hand-on waits for the I/O ready now. */
  #afterIo = false;
  /** Publishes at the head of the queue already counted as held: each is counted once. */
  #counted = 0;

  constructor(
    limits: PublishBudgetLimits,
    private readonly clock: OutboundClock,
    private readonly out: PacerOutput,
  ) {
    this.#budget = new PublishBudget(limits, clock.now());
  }

  /** Whether packets wait for the budget. */
  get holding(): boolean {
    return this.#timer !== undefined;
  }

  /** Whole packets read from the socket, in order. */
  feed(packets: Buffer): void {
    if (this.#closed || packets.length === 0) return;
    this.#queue = this.#queue.length === 0 ? packets : Buffer.concat([this.#queue, packets]);
    // Read while held: they wait behind what is held.
    if (this.holding) this.#countHeld(publishesIn(packets));
    this.#pump();
  }

  /**
   * Aedes wants more. What waits is handed on once the I/O ready now has been read: with an
   * in-memory store aedes handles a read's publishes without ever reaching the event loop's I/O, so
   * handed on at once, read after read, a flood never let another socket be read until it was done.
   */
  read(): void {
    this.#wanted = true;
    if (this.#queue.length === 0 || this.holding) {
      this.#pump();
      return;
    }
    if (this.#afterIo) return;
    this.#afterIo = true;
    this.clock.afterIo(() => {
      this.#afterIo = false;
      this.#pump();
    });
  }

  /** The socket's input ended: passed on after what waits. */
  end(): void {
    this.#ended = true;
    this.#pump();
  }

  /** Hands on every packet waiting, at once (the connection is being refused): no timer is left. */
  flush(): void {
    this.#cancel();
    const all = this.#queue;
    this.#queue = NOTHING;
    if (all.length > 0) this.out.push(all);
  }

  /** The connection is gone: what waits is dropped with it, and the timer is stopped. */
  close(): void {
    this.#closed = true;
    this.#cancel();
    this.#queue = NOTHING;
  }

  #pump(): void {
    if (this.#closed || this.holding) return;
    if (this.#wanted && this.#queue.length > 0) this.#handOn();
    if (this.#queue.length === 0 && this.#ended) {
      this.#ended = false;
      this.out.end();
      return;
    }
    this.out.reading(this.#queue.length === 0);
  }

  /** One read's worth: up to PUBLISHES_PER_READ publishes within the budget; past it, a hold. */
  #handOn(): void {
    const buf = this.#queue;
    const now = this.clock.now();
    let at = 0;
    let publishes = 0;
    let refused = false;
    while (at < buf.length) {
      const size = frameSize(buf.subarray(at));
      // The gate hands on whole packets only; anything else goes on unjudged.
      if (size === undefined) {
        at = buf.length;
        break;
      }
      if (buf[at]! >> 4 === PUBLISH) {
        if (publishes === PUBLISHES_PER_READ) break;
        if (!this.#budget.take(size.total, now)) {
          refused = true;
          break;
        }
        publishes++;
      }
      at += size.total;
    }
    if (at > 0) {
      this.#wanted = false;
      this.#queue = buf.subarray(at);
      this.#counted = Math.max(0, this.#counted - publishes);
      this.out.push(buf.subarray(0, at));
    }
    if (!refused) return;
    this.#countHeld(publishesIn(this.#queue) - this.#counted);
    this.out.hold(true);
    const resumeAt = this.#budget.resumeAt(now);
    this.#timer = this.clock.setTimeout(
      () => {
        this.#timer = undefined;
        this.out.hold(false);
        this.#pump();
      },
      Math.max(1, resumeAt - now),
    );
  }

  #countHeld(n: number): void {
    if (n <= 0) return;
    this.#counted += n;
    this.out.held(n);
  }

  #cancel(): void {
    if (this.#timer === undefined) return;
    this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.out.hold(false);
  }
}
