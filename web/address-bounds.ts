/**
 * What one remote address may take of a web server (web/connection-limits.ts applies it): at most
 * 32 connections open at once; 20 requests a second to the API, with bursts of 100; and 40 a second
 * for the page's own files (`GET /`, `GET /app/*`), with bursts of 400, in a bucket of their own. A
 * request past any is answered 429 with a Retry-After, as problem+json naming the bound, and its
 * connection closed (nothing it sent after read). 256 connections from one client on the LAN, each
 * sending requests ahead of their answers and reading nothing, took the fleet's main thread with the
 * answers their sockets took: `/healthz` answered in 3.6 to 11 s in their first 8 s (docs/web.md).
 *
 * A tab costs 19 of the page's files and 4 reads of the API as it loads. With one bucket of 100,
 * six tabs of one browser opening together (a restored session) had requests refused and tabs left
 * blank or `disconnected · retrying`; ten had 33 refused, five tabs blank. The files are a fixed
 * handful, small and cheap to send, so they have a larger bucket of their own and the API's stays as
 * it was: ten tabs opening and reloading together take 380 of the files' 400 and 80 of the API's 100.
 * A client flooding the files is held to the files' bound; the API's costly answers stay at 20 a second.
 *
 * Loopback is not bounded: a reverse proxy on the host forwards every client it serves from
 * 127.0.0.1 (one bound would be all of them together), and a process on the host can stop the
 * service or take its CPU without HTTP. A site sets the bounds or lifts them (`--http-client-bounds`),
 * and has the clients of a proxy it trusts bounded each by the address the proxy names, the proxy's
 * own connections not bounded (`--http-trusted-proxy`, web/client-address.ts). The console (`monitor
 * --via`), a browser's tabs and Prometheus scraping every second, all from one address, stay within
 * the bounds.
 *
 * An IPv6 client is bounded with the rest of its /64 (boundBlock): one host holds a /64 and may use
 * any address in it. Named by a trusted proxy, one address of 2001:db8::/64 had 46 of 150 API
 * requests refused, then 20 more of its addresses, 100 requests each, had all 2,000 answered. The
 * table of addresses is kept to 10,000; past that, those holding most of their bursts are let go
 * first (makeRoom), so an address held at its bound keeps its place against others sent to push it
 * out: 10,001 addresses named by a trusted proxy, a request each, gave one refused a full burst.
 */
import { isLoopbackAddress } from "../broker/listen.js";
import { TokenBucket } from "../node/token-bucket.js";
import { boundBlock, type ClientOf, clientOf, plainAddress, type TrustedProxies } from "./client-address.js";

export interface AddressBounds {
  /** Connections one address may have open at once (default 32). */
  readonly connections?: number;
  /** Requests a second one address may send, on average (default 20). */
  readonly perSecond?: number;
  /** Requests one address may send at once above that rate (default 100). */
  readonly burst?: number;
  /** Requests a second for the page's files (`GET /`, `GET /app/*`), on average (default 40). */
  readonly pagePerSecond?: number;
  /** Requests for the page's files one address may send at once above that rate (default 400). */
  readonly pageBurst?: number;
  /** The addresses not bounded (default: loopback's, isLoopbackAddress). */
  readonly exempt?: (address: string) => boolean;
  /** No address bounded (`--http-client-bounds off`). */
  readonly off?: boolean;
  /**
   * Reverse proxies whose clients are bounded each by the address the proxy names
   * (web/client-address.ts); a proxy's own connections are not bounded by address.
   */
  readonly trustedProxies?: TrustedProxies;
}

export const ADDRESS_CONNECTIONS = 32;
export const ADDRESS_PER_SECOND = 20;
export const ADDRESS_BURST = 100;
export const ADDRESS_PAGE_PER_SECOND = 40;
export const ADDRESS_PAGE_BURST = 400;
/**
 * Addresses followed at most: at this many, those without a connection holding the most of their
 * bursts are let go until FORGET_TO are left (see makeRoom).
 */
const FORGET_AT = 10_000;
const FORGET_TO = 9_000;

/** A request refused for its address: what to tell the client and the log. */
export interface Refusal {
  readonly address: string;
  readonly bound: "connections" | "rate";
  /** The bound passed, in words (`more than 20 requests a second (bursts of 100)`). */
  readonly what: string;
  readonly detail: string;
  readonly retryAfterS: number;
  /** The block it is bounded with when that is more than its address (an IPv6 /64: boundBlock). */
  readonly block?: string;
  /** The trusted proxy it came through: its connection, which carries other clients', stays open. */
  readonly via?: string;
}

/** One rate: so many requests a second, in bursts of so many. */
interface Rate {
  readonly perSecond: number;
  readonly burst: number;
  /** How it is told (`requests a second`, `requests a second for the page's files`). */
  readonly what: string;
}

interface Bucket {
  /** Tokens left for the API (`api`) and the page's files (`page`). */
  readonly api: TokenBucket;
  readonly page: TokenBucket;
  connections: number;
}

/** Whether a request is for the page's own files (`GET /`, `GET /app/*`, HEAD alike): their own bucket. */
export function isPageFile(method: string | undefined, url: string | undefined): boolean {
  if ((method !== "GET" && method !== "HEAD") || url === undefined) return false;
  const path = url.split("?", 1)[0] ?? "";
  return path === "/" || path.startsWith("/app/");
}

/** Counts each remote address's connections and requests against the bounds (`now`: ms, the server's clock). */
export class PerAddress {
  private readonly byAddress = new Map<string, Bucket>();
  private readonly connectionsMax: number;
  private readonly api: Rate;
  private readonly page: Rate;
  private readonly exempt: (address: string) => boolean;
  private readonly proxies: TrustedProxies | undefined;
  private readonly off: boolean;

  constructor(
    bounds: AddressBounds,
    private readonly now: () => number,
  ) {
    this.connectionsMax = Math.max(1, bounds.connections ?? ADDRESS_CONNECTIONS);
    this.api = {
      perSecond: Math.max(Number.MIN_VALUE, bounds.perSecond ?? ADDRESS_PER_SECOND),
      burst: Math.max(1, bounds.burst ?? ADDRESS_BURST),
      what: "requests a second",
    };
    this.page = {
      perSecond: Math.max(Number.MIN_VALUE, bounds.pagePerSecond ?? ADDRESS_PAGE_PER_SECOND),
      burst: Math.max(1, bounds.pageBurst ?? ADDRESS_PAGE_BURST),
      what: "requests a second for the page's files",
    };
    const exempt = bounds.exempt ?? isLoopbackAddress;
    this.off = bounds.off === true;
    this.exempt = this.off ? () => true : exempt;
    this.proxies = bounds.trustedProxies;
  }

  /** Addresses followed now (those with a connection open or tokens spent). */
  get size(): number {
    return this.byAddress.size;
  }

  /** A connection opened; true when it is past its address's bound (its requests are refused). */
  opened(address: string | undefined): boolean {
    if (address === undefined || this.unbounded(address)) return false;
    const b = this.bucket(boundBlock(address));
    b.connections++;
    return b.connections > this.connectionsMax;
  }

  closed(address: string | undefined): void {
    if (address === undefined || this.unbounded(address)) return;
    const key = boundBlock(address);
    const b = this.byAddress.get(key);
    if (b === undefined) return;
    b.connections--;
    this.refill(b);
    // Forgotten once it holds nothing: a full bucket and no connection is a new address's state.
    if (b.connections <= 0 && b.api.full && b.page.full) this.byAddress.delete(key);
  }

  /**
   * A request arrived from `address` on a connection past the bound (`over`) or not, for the page's
   * files (`pageFile`: isPageFile) or the API: undefined when it may be served, else why not. A
   * request refused takes no token. `via`: the trusted proxy that named `address` as its client. A
   * client a proxy names is bounded whatever its address: loopback's exemption is this host's own
   * connections', and `127.0.0.1` in a proxy's header is a process on the proxy's host, or a client
   * that wrote it where the proxy passes the header on as it came.
   */
  request(address: string | undefined, over: boolean, pageFile = false, via?: string): Refusal | undefined {
    if (address === undefined) return undefined;
    if (via === undefined || via === address ? this.exempt(address) : this.off) return undefined;
    const key = boundBlock(address);
    const block = key === plainAddress(address) ? {} : { block: key };
    const whose =
      block.block === undefined ? address : `${address} (bounded with the rest of ${block.block})`;
    if (over) {
      const what = `more than ${this.connectionsMax} connections open at once`;
      return {
        address,
        bound: "connections",
        what,
        detail: `${what} from ${whose}: close some, or retry in 1 s`,
        retryAfterS: 1,
        ...block,
      };
    }
    const b = this.bucket(key);
    this.refill(b);
    const kind = pageFile ? "page" : "api";
    const tokens = b[kind];
    if (tokens.level >= 1) {
      tokens.level--;
      return undefined;
    }
    const rate = this[kind];
    const retryAfterS = Math.max(1, Math.ceil((1 - tokens.level) / rate.perSecond));
    const what = `more than ${rate.perSecond} ${rate.what} (bursts of ${rate.burst})`;
    const by = via === undefined || via === address ? "" : ` (by way of ${via})`;
    return {
      address,
      bound: "rate",
      what,
      detail: `${what} from ${whose}${by}: retry in ${retryAfterS} s`,
      retryAfterS,
      ...block,
      ...(via === undefined ? {} : { via }),
    };
  }

  /** Who a request from `remote` is bounded as: itself, or the client its trusted proxy names. */
  client(remote: string, headers: Readonly<Record<string, string | string[] | undefined>>): ClientOf {
    return clientOf(remote, headers, this.proxies);
  }

  /** A connection's address not bounded: exempt (loopback), or a trusted proxy's, bounded by client. */
  private unbounded(address: string): boolean {
    return this.exempt(address) || this.proxies?.has(address) === true;
  }

  private bucket(key: string): Bucket {
    let b = this.byAddress.get(key);
    if (b === undefined) {
      // Addresses gone with their tokens spent are kept until 10,000 have gathered: not for ever.
      if (this.byAddress.size >= FORGET_AT) this.makeRoom();
      const now = this.now();
      b = {
        api: new TokenBucket(this.api.perSecond, this.api.burst, now),
        page: new TokenBucket(this.page.perSecond, this.page.burst, now),
        connections: 0,
      };
      this.byAddress.set(key, b);
    }
    return b;
  }

  /**
   * Lets go of addresses without a connection open, those holding the most of their bursts first,
   * until FORGET_TO are left: one let go starts again with a full burst, so the full ones lose
   * nothing and one that spent its bursts is kept longest. Every one without a connection used to be
   * let go at once: 10,000 addresses named by a trusted proxy, a request each, gave an address held
   * at its bound its full burst again.
   */
  private makeRoom(): void {
    const now = this.now();
    const idle: { key: string; held: number }[] = [];
    for (const [key, b] of this.byAddress) {
      if (b.connections > 0) continue;
      const held = b.api.refill(now) / b.api.burst + b.page.refill(now) / b.page.burst;
      idle.push({ key, held });
    }
    idle.sort((x, y) => y.held - x.held);
    const over = this.byAddress.size - FORGET_TO;
    for (const { key } of idle.slice(0, Math.max(0, over))) this.byAddress.delete(key);
  }

  private refill(b: Bucket): void {
    const now = this.now();
    b.api.refill(now);
    b.page.refill(now);
  }
}
