/**
 * The wait for CONNECT: one `--connect-timeout` from TCP accept on every listener. Aedes starts its
 * wait for CONNECT when it is handed a stream; on the TLS and WebSocket listeners that is after the
 * handshake or the upgrade, which had the whole timeout of their own, so a slow client held its socket
 * for nearly twice the limit (a WebSocket upgrade done at 1.8 s and CONNECT at 3.5 s was answered under
 * a 2 s timeout). Its wait is shortened here to what is left of the budget since accept, and judged
 * after the ready I/O (broker/ready-io.ts): a broker that did not run for a while refused, when it ran
 * again, every connection accepted before it stopped, although their CONNECTs waited unread. A wait
 * that came due while the broker did not run is given again, for a client frozen with it.
 * The clients not yet registered or closed are counted: the stale wills' grace looks at them.
 */
import type { Aedes, Client } from "aedes";
import { type JustStalled, NEVER_STALLED, readyIoJudge } from "./ready-io.js";

/** aedes's own error for a CONNECT that did not come in time (lib/client.js): counted as connect-timeout. */
export const CONNECT_TIMEOUT = "connect did not arrive in time";

/** aedes's pending CONNECT wait (lib/client.js; its CONNECT handler and close clear it). */
interface ConnectWait {
  _connectTimer: ReturnType<typeof setTimeout> | null;
  readonly conn: { readonly readableLength: number };
}

/** The connections of one broker from accept until their client is registered or closed. */
export class ConnectWaits {
  private readonly waiting = new Set<Client>();

  constructor(
    aedes: Aedes,
    private readonly stalled: JustStalled = NEVER_STALLED,
  ) {
    aedes.on("client", (client) => this.settled(client));
  }

  /** Connections whose client is neither registered nor closed. */
  get size(): number {
    return this.waiting.size;
  }

  /**
   * Makes `client`'s wait for CONNECT end `timeoutMs` after `acceptedAt` (performance.now() when its
   * raw socket was accepted) instead of a whole `timeoutMs` from now; at once if that is past.
   */
  start(client: Client, acceptedAt: number, timeoutMs: number): void {
    const wait = client as unknown as ConnectWait;
    if (wait._connectTimer === null) return;
    this.waiting.add(client);
    client.conn.once("close", () => this.settled(client));
    clearTimeout(wait._connectTimer);
    const judge = readyIoJudge(this.stalled);
    const arm = (ms: number): void => {
      const timer = setTimeout(() => {
        judge({
          due: () => wait._connectTimer === timer,
          // bytes it sent that the broker has not read yet: its CONNECT may be among them
          heard: () => wait.conn.readableLength > 0,
          extend: () => arm(timeoutMs),
          expire: () => client.emit("error", new Error(CONNECT_TIMEOUT)),
        });
      }, ms);
      wait._connectTimer = timer;
    };
    arm(Math.max(0, timeoutMs - (performance.now() - acceptedAt)));
  }

  private settled(client: Client): void {
    this.waiting.delete(client);
  }
}
