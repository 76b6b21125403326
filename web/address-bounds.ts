/**
 * What one remote address may take of a web server (web/connection-limits.ts applies it): at most
 * 32 connections open at once and 20 requests a second, with bursts of 100. A request past either
 * is answered 429 with a Retry-After, as problem+json naming the bound, and its connection closed
 * (nothing it sent after is read). 256 connections from one client on the LAN, each sending requests
 * ahead of their answers and reading nothing, took the fleet's main thread with the answers their
 * sockets took: `/healthz` answered in 3.6 to 11 s in their first 8 s (docs/web.md).
 *
 * Loopback is not bounded: a reverse proxy on the host forwards every client it serves from
 * 127.0.0.1 (one bound would be all of them together), and a process on the host can stop the
 * service or take its CPU without HTTP. The console (`monitor --via`), a browser's tab (at most 6
 * connections, some 25 requests as the page loads) and Prometheus scraping every second, all from
 * one address, stay well within both.
 */
import { isLoopbackAddress } from "../broker/listen.js";

export interface AddressBounds {
  /** Connections one address may have open at once (default 32). */
  readonly connections?: number;
  /** Requests a second one address may send, on average (default 20). */
  readonly perSecond?: number;
  /** Requests one address may send at once above that rate (default 100). */
  readonly burst?: number;
  /** The addresses not bounded (default: loopback's, isLoopbackAddress). */
  readonly exempt?: (address: string) => boolean;
}

export const ADDRESS_CONNECTIONS = 32;
export const ADDRESS_PER_SECOND = 20;
export const ADDRESS_BURST = 100;
/** Addresses followed before those without a connection are let go. */
const FORGET_AT = 10_000;

/** A request refused for its address: what to tell the client and the log. */
export interface Refusal {
  readonly address: string;
  readonly bound: "connections" | "rate";
  /** The bound passed, in words (`more than 20 requests a second (bursts of 100)`). */
  readonly what: string;
  readonly detail: string;
  readonly retryAfterS: number;
}

interface Bucket {
  tokens: number;
  at: number;
  connections: number;
}

/** Counts each remote address's connections and requests against the bounds (`now`: ms, the server's clock). */
export class PerAddress {
  private readonly byAddress = new Map<string, Bucket>();
  private readonly connectionsMax: number;
  private readonly perSecond: number;
  private readonly burst: number;
  private readonly exempt: (address: string) => boolean;

  constructor(
    bounds: AddressBounds,
    private readonly now: () => number,
  ) {
    this.connectionsMax = Math.max(1, bounds.connections ?? ADDRESS_CONNECTIONS);
    this.perSecond = Math.max(Number.MIN_VALUE, bounds.perSecond ?? ADDRESS_PER_SECOND);
    this.burst = Math.max(1, bounds.burst ?? ADDRESS_BURST);
    this.exempt = bounds.exempt ?? isLoopbackAddress;
  }

  /** Addresses followed now (those with a connection open or tokens spent). */
  get size(): number {
    return this.byAddress.size;
  }

  /** A connection opened; true when it is past its address's bound (its requests are refused). */
  opened(address: string | undefined): boolean {
    if (address === undefined || this.exempt(address)) return false;
    const b = this.bucket(address);
    b.connections++;
    return b.connections > this.connectionsMax;
  }

  closed(address: string | undefined): void {
    if (address === undefined || this.exempt(address)) return;
    const b = this.byAddress.get(address);
    if (b === undefined) return;
    b.connections--;
    this.refill(b);
    // Forgotten once it holds nothing: a full bucket and no connection is a new address's state.
    if (b.connections <= 0 && b.tokens >= this.burst) this.byAddress.delete(address);
  }

  /**
   * A request arrived from `address` on a connection past the bound (`over`) or not: undefined when
   * it may be served, else why not. A request refused takes no token.
   */
  request(address: string | undefined, over: boolean): Refusal | undefined {
    if (address === undefined || this.exempt(address)) return undefined;
    if (over) {
      const what = `more than ${this.connectionsMax} connections open at once`;
      return {
        address,
        bound: "connections",
        what,
        detail: `${what} from ${address}: close some, or retry in 1 s`,
        retryAfterS: 1,
      };
    }
    const b = this.bucket(address);
    this.refill(b);
    if (b.tokens >= 1) {
      b.tokens--;
      return undefined;
    }
    const retryAfterS = Math.max(1, Math.ceil((1 - b.tokens) / this.perSecond));
    const what = `more than ${this.perSecond} requests a second (bursts of ${this.burst})`;
    return {
      address,
      bound: "rate",
      what,
      detail: `${what} from ${address}: retry in ${retryAfterS} s`,
      retryAfterS,
    };
  }

  private bucket(address: string): Bucket {
    let b = this.byAddress.get(address);
    if (b === undefined) {
      // Addresses gone with their tokens spent are kept until 10,000 have gathered: not for ever.
      if (this.byAddress.size >= FORGET_AT) this.forgetIdle();
      b = { tokens: this.burst, at: this.now(), connections: 0 };
      this.byAddress.set(address, b);
    }
    return b;
  }

  /** Lets go of the addresses without a connection open: each starts again with a full burst. */
  private forgetIdle(): void {
    for (const [address, b] of this.byAddress) if (b.connections <= 0) this.byAddress.delete(address);
  }

  private refill(b: Bucket): void {
    const now = this.now();
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.perSecond);
    b.at = now;
  }
}
