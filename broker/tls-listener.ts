/**
 * The MQTT-over-TLS listener: each raw socket admitted by source address on accept, before its
 * handshake (rate, connections before CONNECT, bans: broker/abuse-guard.ts), as a plain socket is;
 * a handshake held no longer than a CONNECT (the two share one --connect-timeout from accept:
 * broker/connect-budget.ts), and the socket closed when it fails or times out (Node
 * only reports a failed handshake: a silent socket was held for good); each secured socket handed to
 * the broker with the ticket it was admitted with. The handshake's time is the broker's own deadline,
 * judged after the ready I/O and given again when it came due while the broker did not run
 * (broker/ready-io.ts): Node's handshake timer fired, after a freeze, before the handshakes waiting
 * in the kernel were read.
 */
import type { Socket } from "node:net";
import { createServer as createTlsServer, type TLSSocket, type Server as TlsServer } from "node:tls";
import type { Logger } from "pino";
import type { Scheduler } from "../node/scheduler.js";
import type { PendingTicket } from "./admission.js";
import { type JustStalled, NEVER_STALLED, readyIoJudge } from "./ready-io.js";

/** Node's own handshake timer, left as a backstop only (its 0 means its default, 120 s). */
const NODE_HANDSHAKE_BACKSTOP_MS = 2 ** 31 - 1;
/** What a handshake not done within --connect-timeout is told as (Node's own words for it). */
export const TLS_HANDSHAKE_TIMEOUT = "TLS handshake failed: TLS handshake timeout";

export interface TlsListenerOptions {
  readonly key: string | Buffer;
  readonly cert: string | Buffer;
  readonly connectTimeoutMs: number;
  /** The broker's clock (broker/connect-budget.ts): a raw socket's accept time is read on it. */
  readonly clock: Scheduler;
  readonly logger: Logger;
  /** Admits a raw socket, or refuses it (counted as that, and closed): its ticket, or undefined. */
  readonly admit: (socket: Socket) => PendingTicket | undefined;
  /**
   * A socket past its handshake, with the ticket its raw socket was admitted with and when that was
   * accepted (`clock.now()`): the handshake and the CONNECT share one --connect-timeout.
   */
  readonly handle: (
    socket: TLSSocket,
    ticket: PendingTicket | undefined,
    acceptedAt: number | undefined,
  ) => void;
  /** A handshake that failed or timed out, from `remote`. */
  readonly failed: (remote: string | undefined, detail: string) => void;
  /** The broker's own stalls (broker/ready-io.ts): a handshake's time that came due in one is given again. */
  readonly stalled?: JustStalled;
}

export function tlsListener(o: TlsListenerOptions): TlsServer {
  // Each raw socket's ticket and accept time wait here for its handshake (the TLS socket shows the
  // raw one's addresses and ports).
  const handshaking = new Map<string, { ticket: PendingTicket; acceptedAt: number }>();
  const server = createTlsServer(
    // A handshake that never completes is held no longer than a CONNECT that never comes: timed
    // below, from accept.
    { key: o.key, cert: o.cert, handshakeTimeout: NODE_HANDSHAKE_BACKSTOP_MS },
    (socket) => {
      socket.setNoDelay(true);
      const key = connectionKey(socket);
      const admitted = handshaking.get(key);
      handshaking.delete(key);
      o.handle(socket, admitted?.ticket, admitted?.acceptedAt);
    },
  );
  server.on("connection", (socket: Socket) => {
    const acceptedAt = o.clock.now();
    const ticket = o.admit(socket);
    if (ticket === undefined) return;
    const key = connectionKey(socket);
    const entry = { ticket, acceptedAt };
    handshaking.set(key, entry);
    const judge = readyIoJudge(o.stalled ?? NEVER_STALLED);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arm = (): void => {
      timer = setTimeout(() => {
        judge({
          due: () => handshaking.get(key) === entry && !socket.destroyed,
          heard: () => false,
          extend: arm,
          expire: () => {
            o.failed(socket.remoteAddress, TLS_HANDSHAKE_TIMEOUT);
            socket.destroy();
          },
        });
      }, o.connectTimeoutMs);
    };
    arm();
    socket.once("close", () => {
      clearTimeout(timer);
      if (handshaking.get(key) === entry) handshaking.delete(key);
    });
  });
  server.on("tlsClientError", (err: NodeJS.ErrnoException, socket) => {
    // Gone already: the client hung up, or it was refused on accept (counted as that).
    if (socket.destroyed && err.code === "ECONNRESET") {
      o.logger.debug({ err: err.message }, "TLS connection closed before its handshake");
      return;
    }
    o.failed(socket.remoteAddress, `TLS handshake failed: ${err.message}`);
    // Node only reports a failed handshake (its handshake timeout included): the socket stays
    // open until closed here, and a silent one was held for good.
    socket.destroy();
  });
  return server;
}

/** One TCP connection among those open now: both ends' addresses and ports. */
function connectionKey(socket: Socket): string {
  return `${socket.remoteAddress}|${socket.remotePort}|${socket.localAddress}|${socket.localPort}`;
}
