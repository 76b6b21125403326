/**
 * The MQTT-over-TLS listener: each raw socket admitted by source address on accept, before its
 * handshake (rate, connections before CONNECT, bans: broker/abuse-guard.ts), as a plain socket is;
 * a handshake held no longer than a CONNECT (the two share one --connect-timeout from accept:
 * broker/connect-budget.ts), and the socket closed when it fails or times out (Node
 * only reports a failed handshake: a silent socket was held for good); each secured socket handed to
 * the broker with the ticket it was admitted with.
 */
import type { Socket } from "node:net";
import { createServer as createTlsServer, type TLSSocket, type Server as TlsServer } from "node:tls";
import type { Logger } from "pino";
import type { Scheduler } from "../node/scheduler.js";
import type { PendingTicket } from "./admission.js";

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
}

export function tlsListener(o: TlsListenerOptions): TlsServer {
  // Each raw socket's ticket and accept time wait here for its handshake (the TLS socket shows the
  // raw one's addresses and ports).
  const handshaking = new Map<string, { ticket: PendingTicket; acceptedAt: number }>();
  const server = createTlsServer(
    // A handshake that never completes is held no longer than a CONNECT that never comes.
    { key: o.key, cert: o.cert, handshakeTimeout: o.connectTimeoutMs },
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
    handshaking.set(key, { ticket, acceptedAt });
    socket.once("close", () => handshaking.delete(key));
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
