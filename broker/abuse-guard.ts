/**
 * The abuse limits wired into one broker: a new connection is admitted or destroyed before aedes
 * sees it (broker/admission.ts), and aedes's authenticate and authorizeSubscribe hooks are wrapped
 * with the password-check queue and bans (broker/login-guard.ts) and the subscription limit
 * (broker/client-limits.ts). A listener's socket past the open-files reserve (broker/file-reserve.ts)
 * is closed first, before it costs the address a token.
 */
import { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { Aedes } from "aedes";
import type { Logger } from "pino";
import { RealScheduler } from "../node/scheduler.js";
import { addressKey } from "./address-key.js";
import { Admission, isRefusal, type PendingTicket } from "./admission.js";
import { limitSubscriptions } from "./client-limits.js";
import type { BrokerTally } from "./figures.js";
import { guardAuthenticate, LoginQueue } from "./login-guard.js";
import type { ResolvedBrokerOptions } from "./options.js";
import { limitSessions, type SessionCount } from "./session-limit.js";

/** What handle() asks of the abuse limits for each new connection. */
export interface Admitted {
  /**
   * The connection's pending ticket, or undefined when it was refused and destroyed; `admitted`: the
   * ticket its raw socket already holds (admitSocket), so it is not admitted twice.
   */
  accept(stream: Duplex, address: string | undefined, admitted?: PendingTicket): PendingTicket | undefined;
  track(conn: Duplex, address: string | undefined, ticket: PendingTicket): void;
  /**
   * A raw socket of a TLS or WebSocket listener, admitted before its handshake as a plain socket is
   * (ban, rate, connections before CONNECT), so a banned or throttled address costs no handshake and
   * its unfinished handshakes count towards --max-pending: its ticket, settled when the socket
   * closes, to hand to accept() once the handshake is done; undefined when refused (and destroyed).
   */
  admitSocket(socket: Duplex, address: string | undefined): PendingTicket | undefined;
}

/**
 * The abuse limits (broker/admission.ts, login-guard.ts, client-limits.ts) around aedes's hooks: a
 * connection refused at accept is destroyed before aedes sees it; one is pending until its client
 * is registered or it closes.
 */
export function guardAedes(
  aedes: Aedes,
  opts: ResolvedBrokerOptions,
  logger: Logger,
  tally?: BrokerTally,
  files?: { admit(): boolean },
): Admitted {
  const admission = new Admission(opts, logger);
  // What the limits count a client under: its IPv4 address, its IPv6 /64 (broker/address-key.ts);
  // and the host within it, whose earlier login lets it past a ban of its prefix.
  const sourceAddress = (address: string | undefined) => addressKey(address, opts.ipv6PrefixBits);
  const hostAddress = (address: string | undefined) => addressKey(address, 128);
  const addresses = new WeakMap<object, { readonly key: string; readonly host: string }>();
  const tickets = new WeakMap<object, PendingTicket>();
  aedes.on("client", (client) => tickets.get(client.conn)?.settle());
  aedes.authorizeSubscribe = limitSubscriptions(
    aedes,
    aedes.authorizeSubscribe,
    opts.maxSubscriptionsPerClient,
    logger,
  );
  aedes.authorizeSubscribe = limitSessions(
    aedes.authorizeSubscribe,
    (aedes as unknown as { persistence: SessionCount }).persistence,
    opts.maxSessions,
    logger,
    new RealScheduler(),
    () => {
      if (tally) tally.sessionsRefused++;
    },
  );
  if (opts.auth) {
    aedes.authenticate = guardAuthenticate(aedes.authenticate, {
      admission,
      queue: new LoginQueue(opts.loginConcurrency),
      addressOf: (client) => addresses.get(client.conn)?.key ?? "unknown",
      hostOf: (client) => addresses.get(client.conn)?.host ?? "unknown",
    });
  }
  /** A listener's socket past the open-files reserve: closed at once, which frees its descriptor. */
  const overFiles = (socket: Duplex): boolean => {
    if (files === undefined || files.admit()) return false;
    if (tally) tally.refused["open-files"]++;
    socket.destroy();
    return true;
  };
  return {
    accept(stream, rawAddress, admitted) {
      if (admitted !== undefined) return admitted;
      // A socket of the plain listener (an in-memory stream holds no descriptor).
      if (stream instanceof Socket && overFiles(stream)) return undefined;
      const address = sourceAddress(rawAddress);
      const verdict = admission.accept(address, hostAddress(rawAddress));
      if (!isRefusal(verdict)) return verdict;
      if (tally) tally.refused[verdict.kind]++;
      logger.debug({ address, refusal: verdict.kind }, "connection refused at accept");
      stream.destroy();
      return undefined;
    },
    admitSocket(socket, rawAddress) {
      if (overFiles(socket)) return undefined;
      const address = sourceAddress(rawAddress);
      const verdict = admission.accept(address, hostAddress(rawAddress));
      if (isRefusal(verdict)) {
        if (tally) tally.refused[verdict.kind]++;
        logger.debug({ address, refusal: verdict.kind }, "connection refused before its handshake");
        socket.destroy();
        return undefined;
      }
      socket.once("close", () => verdict.settle());
      return verdict;
    },
    track(conn, address, ticket) {
      addresses.set(conn, { key: sourceAddress(address), host: hostAddress(address) });
      tickets.set(conn, ticket);
      conn.once("close", () => ticket.settle());
    },
  };
}
