/**
 * The wait for CONNECT: one `--connect-timeout` from TCP accept on every listener. Aedes starts its
 * wait for CONNECT when it is handed a stream; on the TLS and WebSocket listeners that is after the
 * handshake or the upgrade, which had the whole timeout of their own, so a slow client held its socket
 * for nearly twice the limit (a WebSocket upgrade done at 1.8 s and CONNECT at 3.5 s was answered under
 * a 2 s timeout). Its wait is shortened here to what is left of the budget since accept, and judged
 * after the ready I/O (broker/ready-io.ts): a broker that did not run for a while refused, when it ran
 * again, every connection accepted before it stopped, although their CONNECTs waited unread. A wait
 * that came due while the broker did not run is given again, for a client frozen with it.
 * The clients not yet registered or closed are counted, and of those the ones that show a client
 * coming (broker/stale-wills.ts): a connection that has sent nothing is not one.
 * Accept times and the wait are on the broker's clock (its `scheduler` option, the host's unless
 * given), so that a test can move the wait's end rather than sleep towards it.
 */
import type { Aedes, Client } from "aedes";
import { RealScheduler, type Scheduler, type Timer } from "../node/scheduler.js";
import { type JustStalled, NEVER_STALLED, readyIoJudge } from "./ready-io.js";

/** aedes's own error for a CONNECT that did not come in time (lib/client.js): counted as connect-timeout. */
export const CONNECT_TIMEOUT = "connect did not arrive in time";

/**
 * aedes's pending CONNECT wait (lib/client.js): its own host timer until start() puts one of the
 * broker's clock in its place; its CONNECT handler and close set it to null (their clearTimeout does
 * nothing to the clock's timer, which settled() cancels).
 */
interface ConnectWait {
  _connectTimer: unknown;
  readonly conn: { readonly readableLength: number };
  /** mqtt-packet's parser: the bytes of a packet begun and not yet whole. */
  readonly _parser?: { readonly _list?: { readonly length: number } };
}

/** A connection and when it was accepted, on the broker's clock. */
interface Waiting {
  readonly acceptedAt: number;
  timer: Timer | undefined;
}

/** The connections of one broker from accept until their client is registered or closed. */
export class ConnectWaits {
  /** Each with its wait's timer on the clock, once start() has set one. */
  private readonly waiting = new Map<Client, Waiting>();

  constructor(
    aedes: Aedes,
    /** The broker's clock: accept times and the waits from them (the WebSocket upgrade's too). */
    readonly clock: Scheduler = new RealScheduler(),
    private readonly stalled: JustStalled = NEVER_STALLED,
  ) {
    aedes.on("client", (client) => this.settled(client));
  }

  /** Connections whose client is neither registered nor closed. */
  get size(): number {
    return this.waiting.size;
  }

  /**
   * Of the connections waiting, those that show a client coming: its CONNECT read (waiting on
   * authentication or the store), bytes of it unread or begun, or accepted at `since` or later (a
   * connection taken from the backlog in this turn, its CONNECT not read yet). A connection accepted
   * before `since` that has sent nothing since is not one: a node sends its CONNECT as soon as its
   * TCP connection (or its WebSocket upgrade) is made.
   */
  coming(since: number): number {
    let n = 0;
    for (const [client, { acceptedAt }] of this.waiting) {
      const wait = client as unknown as ConnectWait;
      if (
        acceptedAt >= since ||
        wait._connectTimer === null ||
        wait.conn.readableLength > 0 ||
        (wait._parser?._list?.length ?? 0) > 0
      )
        n++;
    }
    return n;
  }

  /**
   * Makes `client`'s wait for CONNECT end `timeoutMs` after `acceptedAt` (`clock.now()` when its raw
   * socket was accepted) instead of a whole `timeoutMs` from now; at once if that is past.
   */
  start(client: Client, acceptedAt: number, timeoutMs: number): void {
    const wait = client as unknown as ConnectWait;
    if (wait._connectTimer === null) return;
    const waiting: Waiting = { acceptedAt, timer: undefined };
    this.waiting.set(client, waiting);
    client.conn.once("close", () => this.settled(client));
    clearTimeout(wait._connectTimer as ReturnType<typeof setTimeout>);
    const judge = readyIoJudge(this.stalled);
    const arm = (atMs: number): void => {
      const timer = this.clock.at(atMs, () => {
        judge({
          due: () => wait._connectTimer === timer,
          // bytes it sent that the broker has not read yet: its CONNECT may be among them
          heard: () => wait.conn.readableLength > 0,
          extend: () => arm(this.clock.now() + timeoutMs),
          expire: () => client.emit("error", new Error(CONNECT_TIMEOUT)),
        });
      });
      wait._connectTimer = timer;
      waiting.timer = timer;
    };
    arm(acceptedAt + timeoutMs);
  }

  private settled(client: Client): void {
    this.waiting.get(client)?.timer?.cancel();
    this.waiting.delete(client);
  }
}
