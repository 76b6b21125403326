/**
 * What HTTP connections may hold of a web server (the fleet's page and API, the broker's /metrics):
 * a request's headers must be in within 10 s and the whole request within 30 s, checked every
 * second, and at most 256 connections are open at once (past that Node closes a new one at once).
 * Fastify turns Node's request timeout off, and Node checks its header timeout (60 s) only every
 * 30 s: a client on the LAN that opened 5,000 sockets and sent each half a request held them all
 * for over 70 s, 5,000 of the file descriptors the twins service also needs for its broker
 * connection and its saves. An event stream is a response, so none of this cuts it short.
 */
import type { Server } from "node:http";

export interface ConnectionLimits {
  /** How long a request's headers may take to arrive (default 10 s). */
  readonly headersTimeoutMs?: number;
  /** How long a whole request may take to arrive (default 30 s). */
  readonly requestTimeoutMs?: number;
  /** Connections open at once (default 256). */
  readonly maxConnections?: number;
}

export const HEADERS_TIMEOUT_MS = 10_000;
export const REQUEST_TIMEOUT_MS = 30_000;
export const MAX_CONNECTIONS = 256;

/**
 * The Fastify options that set the timeouts (its `http` options reach http.createServer). Node's own
 * answer to an HTTP/1.1 request without a Host header is a bare 400 with an empty body; the server
 * takes such a request and refuses it as a problem naming the header (web/auth.ts, checkHost).
 */
export function timeoutOptions(o: ConnectionLimits = {}): {
  http: { headersTimeout: number; connectionsCheckingInterval: number; requireHostHeader: boolean };
  requestTimeout: number;
} {
  const headersTimeout = o.headersTimeoutMs ?? HEADERS_TIMEOUT_MS;
  const requestTimeout = Math.max(o.requestTimeoutMs ?? REQUEST_TIMEOUT_MS, headersTimeout);
  return {
    http: {
      headersTimeout,
      connectionsCheckingInterval: Math.min(1000, headersTimeout),
      requireHostHeader: false,
    },
    requestTimeout,
  };
}

/** Caps the connections the server keeps open at once. */
export function limitConnections(server: Server, o: ConnectionLimits = {}): void {
  server.maxConnections = o.maxConnections ?? MAX_CONNECTIONS;
}
