/**
 * The WARN lines of what a web server's connection limits did to a client (web/connection-limits.ts):
 * a connection closed for sending more requests ahead of their answers than the server keeps, and a
 * request refused 429 for its address's bound (web/address-bounds.ts), and a trusted proxy's request
 * whose forwarding header names no client (web/client-address.ts), and a connection refused at the
 * server's cap with every connection busy. Each kind writes one line at once, naming the address,
 * then at most one a minute: what came meanwhile is told in one line at the minute's end, counted by
 * address (an IPv6 client's by its /64, as it is bounded). Closes for pipelining, and connections
 * refused at the cap, used to be counted on /metrics alone, so an operator reading the log never
 * learnt a client was being cut or turned away.
 */
import { LogWindow } from "../node/log-window.js";
import type { Scheduler } from "../node/scheduler.js";
import type { Refusal } from "./address-bounds.js";

/** Where the lines go: the service's logger (`logger.warn(fields, text)`). */
export type WebWarn = (fields: Record<string, unknown>, text: string) => void;

/** One line a window, the rest summed up at its end. */
export const WARN_WINDOW_MS = 60_000;

const byAddress = (held: readonly (readonly [string, number])[]) =>
  held.map(([address, n]) => `${address} ×${n}`).join(", ");

export class ConnectionWarnings {
  private readonly pipelinedLog: LogWindow<string>;
  private readonly refusedLog: LogWindow<string>;
  private readonly forwardedLog: LogWindow<string>;
  private readonly fullLog: LogWindow<string>;
  /** The cap the last refusal at it named. */
  private cap = 0;

  constructor(
    scheduler: Scheduler,
    private readonly warn: WebWarn,
    private readonly maxUnanswered: number,
  ) {
    this.pipelinedLog = new LogWindow(scheduler, 1, WARN_WINDOW_MS, (held, total) =>
      warn(
        { closed: total, addresses: Object.fromEntries(held) },
        `web: ${total} more connections closed in the last minute for sending more than ${maxUnanswered} requests ahead of their answers: ${byAddress(held)}`,
      ),
    );
    this.refusedLog = new LogWindow(scheduler, 1, WARN_WINDOW_MS, (held, total) =>
      warn(
        { refused: total, addresses: Object.fromEntries(held) },
        `web: ${total} more requests refused 429 in the last minute for their address's bound: ${byAddress(held)}`,
      ),
    );
    this.forwardedLog = new LogWindow(scheduler, 1, WARN_WINDOW_MS, (held, total) =>
      warn(
        { requests: total, proxies: Object.fromEntries(held) },
        `web: ${total} more requests in the last minute from a trusted proxy whose forwarding header names no client, each bounded as the proxy: ${byAddress(held)}`,
      ),
    );
    this.fullLog = new LogWindow(scheduler, 1, WARN_WINDOW_MS, (held, total) =>
      warn(
        { refused: total, cap: this.cap, addresses: Object.fromEntries(held) },
        `web: ${total} more connections refused in the last minute, all ${this.cap} the server keeps open at once busy: ${byAddress(held)}`,
      ),
    );
  }

  /** A connection from `address` closed for one request too many sent ahead of their answers. */
  pipelined(address: string): void {
    this.pipelinedLog.log(address, () =>
      this.warn(
        { remote: address },
        `web: closed a connection from ${address}: it sent more than ${this.maxUnanswered} requests ahead of their answers without reading them (HTTP pipelining); at most one such line a minute`,
      ),
    );
  }

  /** A request refused 429 for its address's bound. */
  refused(r: Refusal): void {
    const via = r.via !== undefined && r.via !== r.address ? r.via : undefined;
    const block = r.block !== undefined ? ` (bounded with the rest of ${r.block})` : "";
    this.refusedLog.log(r.block ?? r.address, () =>
      this.warn(
        {
          remote: r.address,
          bound: r.bound,
          ...(r.block ? { block: r.block } : {}),
          ...(via ? { via } : {}),
        },
        `web: refused requests from ${r.address}${block}${via ? ` (by way of ${via})` : ""} (429): ${r.what}; at most one such line a minute`,
      ),
    );
  }

  /** A trusted proxy's request whose forwarding header was not taken (`what`): bounded as the proxy. */
  forwarded(proxy: string, what: string): void {
    this.forwardedLog.log(proxy, () =>
      this.warn(
        { remote: proxy, header: what },
        `web: a request from the trusted proxy ${proxy} is bounded as the proxy itself: ${what}; at most one such line a minute`,
      ),
    );
  }

  /**
   * A connection from `address` refused unanswered: the server keeps `cap` open at once and every
   * one is busy (an event stream, a request in progress).
   */
  full(address: string, cap: number): void {
    this.cap = cap;
    this.fullLog.log(address, () =>
      this.warn(
        { remote: address, cap },
        `web: refused a connection from ${address}: the server keeps ${cap} connections open at once and every one is busy (event streams, requests in progress); at most one such line a minute`,
      ),
    );
  }

  /** Writes what is held back. */
  stop(): void {
    this.fullLog.stop();
    this.pipelinedLog.stop();
    this.refusedLog.stop();
    this.forwardedLog.stop();
  }
}
