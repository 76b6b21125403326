/**
 * The WARN lines of what a web server's connection limits did to a client (web/connection-limits.ts):
 * a connection closed for sending more requests ahead of their answers than the server keeps, and a
 * request refused 429 for its address's bound (web/address-bounds.ts). Each kind writes one line at
 * once, naming the address, then at most one a minute: what came meanwhile is told in one line at
 * the minute's end, counted by address. Closes for pipelining used to be counted on /metrics alone,
 * so an operator reading the log never learnt a client was being cut.
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
    this.refusedLog.log(r.address, () =>
      this.warn(
        { remote: r.address, bound: r.bound },
        `web: refused requests from ${r.address} (429): ${r.what}; at most one such line a minute`,
      ),
    );
  }

  /** Writes what is held back. */
  stop(): void {
    this.pipelinedLog.stop();
    this.refusedLog.stop();
  }
}
