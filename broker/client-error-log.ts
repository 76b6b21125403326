/**
 * The broker's log of its clients' ordinary errors (a keepalive that ran out, a reset), one line
 * each but at most `CLIENT_ERROR_LINES` in a window of `CLIENT_ERROR_WINDOW_MS`, then a summary by
 * error at the window's end (node/log-window.ts). A partition of 600 nodes wrote 602 lines of
 * `client error … keep alive timeout` within two seconds; 5,000 nodes, 5,000. Each error is still
 * counted for `/metrics` (broker/client-errors.ts). The cuts the broker decides (a packet over the
 * limit, an outbound queue full, a stalled socket) are logged apart, at WARN, at most as many lines
 * in a window of their own, then a WARN summary by cut.
 */
import type { Logger } from "pino";
import { LogWindow } from "../node/log-window.js";
import { RealScheduler, type Scheduler } from "../node/scheduler.js";

export const CLIENT_ERROR_LINES = 20;
export const CLIENT_ERROR_WINDOW_MS = 10_000;

export class ClientErrorLog {
  private readonly window: LogWindow<string>;
  /** The cuts the broker decides (a packet over the limit, a stalled socket): WARN, a window of their own. */
  private readonly cuts: LogWindow<string>;

  constructor(
    private readonly logger: Logger,
    scheduler: Scheduler = new RealScheduler(),
  ) {
    this.window = new LogWindow(scheduler, CLIENT_ERROR_LINES, CLIENT_ERROR_WINDOW_MS, (held, total) => {
      const errors = [...held]
        .sort((a, b) => b[1] - a[1])
        .map(([e, n]) => `${n} ${e}`)
        .join(", ");
      logger.info(
        { byError: Object.fromEntries(held) },
        `${total} more client errors in ${CLIENT_ERROR_WINDOW_MS / 1000} s, not logged one by one (${errors})`,
      );
    });
    this.cuts = new LogWindow(scheduler, CLIENT_ERROR_LINES, CLIENT_ERROR_WINDOW_MS, (held, total) => {
      const cuts = [...held]
        .sort((a, b) => b[1] - a[1])
        .map(([e, n]) => `${n} ${e}`)
        .join(", ");
      logger.warn(
        { byCut: Object.fromEntries(held) },
        `${total} more connections cut in ${CLIENT_ERROR_WINDOW_MS / 1000} s, not logged one by one (${cuts})`,
      );
    });
  }

  /**
   * A connection the broker cut (`what`: "packet limit", "outbound queue full", …), written by `line`
   * (a WARN naming the client); past the window's lines, counted by `what`. 1,000 WebSocket frames
   * announcing 2^62 bytes wrote 1,000 WARN lines.
   */
  cut(what: string, line: () => void): void {
    this.cuts.log(what, line);
  }

  /** `remote`: the client's address, so that one that never sent CONNECT can be found too. */
  log(clientId: string | undefined, err: Error, remote?: string): void {
    this.window.log(err.message, () =>
      this.logger.info({ clientId, remote, err: err.message }, "client error"),
    );
  }

  /**
   * A connection a listener refused before it became a client (a TLS handshake or WebSocket
   * upgrade that failed or never completed), from `remote`; counted by `detail` past the window's lines.
   */
  refused(remote: string | undefined, detail: string): void {
    this.window.log(detail, () => this.logger.info({ remote }, detail));
  }

  /** Writes what is held back and stops the timer (the broker closes). */
  stop(): void {
    this.window.stop();
    this.cuts.stop();
  }
}
