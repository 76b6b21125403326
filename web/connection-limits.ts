/**
 * What HTTP connections may hold of a web server (the fleet's page and API, the broker's /metrics):
 * a request's headers must be in within 10 s and the whole request within 30 s, checked every
 * second, and at most 256 connections are open at once (see below for one more).
 * Fastify turns Node's request timeout off, and Node checks its header timeout (60 s) only every
 * 30 s: a client on the LAN that opened 5,000 sockets and sent each half a request held them all
 * for over 70 s, 5,000 of the file descriptors the twins service also needs for its broker
 * connection and its saves. An event stream is a response, so none of this cuts it short.
 *
 * At the cap, a new connection takes the place of the one that has waited longest since its last
 * request was answered (a keep-alive connection kept for a next request, or one whose client has
 * not read the answer, its next answers waiting their turn behind it: answerTurn): it is closed, as
 * a server may close an idle connection at any time. With none such, it takes the place of the one
 * open longest that has not sent its request yet: a client sends its request as it connects, so
 * that is a socket held open with nothing (a browser's spare) or with headers trickling in
 * (slowloris, one byte every few seconds). Those used to count as busy: 256 sockets each sending a
 * header byte every 10 s, opened again as each was closed at its 10 s, kept /healthz, the page and
 * the API refused unanswered for as long as they came. Only when every connection is busy (an event
 * stream, a request in progress) is the new one refused.
 * The cap is at most half the process's limit of open files (`ulimit -n`): at 200, 256 slow sockets
 * took every file descriptor the service has, its broker connection's and its saves' included.
 * Before, Node's own cap refused the new connection whatever the others were doing: 256 keep-alive
 * clients that had each read one answer (dashboards, scripts with a session, a Go or Python client)
 * kept /healthz, /metrics and the page refused for 30 s, and 256 that never read /api/nodes for
 * 72 s; an answer too large for the kernel's buffers, never read, held its connection for good.
 *
 * Each remote address beyond loopback is bounded besides (web/address-bounds.ts): a request past its
 * bound is marked here, as it arrives, to be answered 429 in its turn and its connection closed (a
 * trusted proxy's is kept: it carries its other clients' requests).
 */
import { readFileSync } from "node:fs";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { RealScheduler, type Scheduler } from "../node/scheduler.js";
import { stopParsing } from "../node/stop-parsing.js";
import { type AddressBounds, isPageFile, PerAddress, type Refusal } from "./address-bounds.js";
import type { ConnectionWarnings } from "./connection-warnings.js";

export interface ConnectionLimits {
  /** How long a request's headers may take to arrive (default 10 s). */
  readonly headersTimeoutMs?: number;
  /** How long a whole request may take to arrive (default 30 s). */
  readonly requestTimeoutMs?: number;
  /** Connections open at once (default 256, or half the process's limit of open files if lower). */
  readonly maxConnections?: number;
  /** Requests one connection may have unanswered at once before it is closed (default 32). */
  readonly maxUnanswered?: number;
  /** What one remote address beyond loopback may take (web/address-bounds.ts). */
  readonly perAddress?: AddressBounds;
}

/** What the limits are measured by and told to. */
export interface LimitHooks {
  /** The clock of the per-address rate (default: wall time). */
  readonly scheduler?: Scheduler;
  /** The WARN lines of connections closed or refused and requests refused. */
  readonly warnings?: ConnectionWarnings;
}

export const HEADERS_TIMEOUT_MS = 10_000;
export const REQUEST_TIMEOUT_MS = 30_000;
export const MAX_CONNECTIONS = 256;
/**
 * Requests a connection may have waiting for their answers at once. HTTP/1.1 lets a client send its
 * next requests before the answers (pipelining); browsers and curl never do, and a client that does
 * and reads nothing made the server take every request it sent in, each answer then held in memory
 * behind the unread ones: 150 connections sending 1,000 `GET /api/convergence` each and reading
 * nothing took a twins service of 50 nodes to 1.2 GB, `/healthz` answered in 6.8 s. Past this many
 * the connection is closed, the rest of the read it came in is not parsed (node/stop-parsing.ts), and
 * its requests parsed but not yet begun are left unanswered (`skipRequest`).
 */
export const MAX_UNANSWERED = 32;

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

/**
 * The connections open at once by default: 256, or half the process's soft limit of open files
 * (`ulimit -n`; Linux's /proc/self/limits) when that is lower, so the other half is left to what the
 * process does besides (its broker connection, its store, a sim's nodes). Elsewhere, 256.
 */
export function defaultMaxConnections(limits = readLimits()): number {
  const soft = /^Max open files\s+(\d+)/m.exec(limits ?? "")?.[1];
  return soft === undefined
    ? MAX_CONNECTIONS
    : Math.max(1, Math.min(MAX_CONNECTIONS, Math.floor(Number(soft) / 2)));
}

function readLimits(): string | undefined {
  try {
    return readFileSync("/proc/self/limits", "utf8");
  } catch {
    return undefined;
  }
}

/**
 * What the cap did (`/metrics`, the tests): connections closed to make room — idle since their
 * answer, or open without a request — and connections refused with every one busy.
 */
export interface ConnectionCounts {
  /** The cap in force. */
  readonly cap: number;
  /** Connections open now. */
  open: number;
  idle: number;
  noRequest: number;
  refused: number;
  /** Closed for sending more than `maxUnanswered` requests ahead of their answers. */
  pipelined: number;
  /** Requests refused 429 for their address's bound, by bound. */
  readonly limited: { connections: number; rate: number };
  /** A trusted proxy's requests whose forwarding header named no client: bounded as the proxy. */
  forwardedBad: number;
}

/** A server's counts before its first connection: `cap` it keeps, nothing counted yet. */
export function noConnections(cap: number): ConnectionCounts {
  return {
    cap,
    open: 0,
    idle: 0,
    noRequest: 0,
    refused: 0,
    pipelined: 0,
    limited: { connections: 0, rate: 0 },
    forwardedBad: 0,
  };
}

/**
 * Caps the connections the server keeps open at once; at the cap a new connection takes the place of
 * the one idle longest (answered, no request since), else of the one open longest without a request,
 * or is closed at once, unanswered, when every one is busy.
 */
export function limitConnections(
  server: Server,
  o: ConnectionLimits = {},
  hooks: LimitHooks = {},
): ConnectionCounts {
  const cap = o.maxConnections ?? defaultMaxConnections();
  const unansweredCap = o.maxUnanswered ?? MAX_UNANSWERED;
  const counts = noConnections(cap);
  const scheduler = hooks.scheduler ?? new RealScheduler();
  const perAddress = new PerAddress(o.perAddress ?? {}, () => scheduler.now());
  // Connections past their address's bound of connections: each of their requests is refused.
  const overBound = new WeakSet<Socket>();
  // Requests begun on each connection whose answers are not finished yet.
  const unanswered = new Map<Socket, number>();
  // Every open connection with the answer to its latest request (none yet: undefined), the one whose
  // latest request (or, without one, whose connection) came longest ago first.
  const open = new Map<Socket, ServerResponse | undefined>();
  // The turns each connection's answers wait for (see answerTurn), let go when it closes.
  const turnsOf = new Map<Socket, Set<() => void>>();
  // Ahead of Node's own listeners: a connection refused here is closed before it is read.
  server.prependListener("connection", (socket: Socket) => {
    if (open.size >= cap && !makeRoom()) {
      counts.refused++;
      hooks.warnings?.full(socket.remoteAddress ?? "an address unknown", cap);
      socket.destroy();
      return;
    }
    open.set(socket, undefined);
    counts.open = open.size;
    // Read now: a closed socket no longer has it.
    const address = socket.remoteAddress;
    if (perAddress.opened(address)) overBound.add(socket);
    socket.once("close", () => {
      perAddress.closed(address);
      open.delete(socket);
      unanswered.delete(socket);
      counts.open = open.size;
      for (const go of turnsOf.get(socket) ?? []) go();
      turnsOf.delete(socket);
    });
  });
  server.prependListener("request", (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    // Closed, or ending with a 429 sent before this request: it is not answered (skipRequest).
    if (!open.has(socket)) return;
    if (ending.has(socket)) {
      afterRefusal.add(req);
      return;
    }
    const waiting = (unanswered.get(socket) ?? 0) + 1;
    unanswered.set(socket, waiting);
    res.once("finish", () => {
      const left = unanswered.get(socket);
      if (left !== undefined) unanswered.set(socket, left - 1);
    });
    if (waiting > unansweredCap) {
      counts.pipelined++;
      hooks.warnings?.pipelined(socket.remoteAddress ?? "an address unknown");
      close(socket);
      // Nor the rest of the read this request came in (up to 1,500 more of them) parsed.
      stopParsing(socket);
      return;
    }
    // From a trusted proxy, the client it names (web/client-address.ts); else the socket's address.
    const remote = socket.remoteAddress;
    const client = remote === undefined ? undefined : perAddress.client(remote, req.headers);
    if (client?.malformed !== undefined) {
      counts.forwardedBad++;
      hooks.warnings?.forwarded(client.via ?? "", client.malformed);
    }
    const refusal = perAddress.request(
      client?.address,
      overBound.has(socket),
      isPageFile(req.method, req.url),
      client?.via,
    );
    if (refusal !== undefined) {
      refusals.set(req, refusal);
      counts.limited[refusal.bound]++;
      hooks.warnings?.refused(refusal);
      // Its connection ends with this answer, the rest of the read neither parsed nor answered; a
      // trusted proxy's carries its other clients' requests, and stays.
      if (refusal.via === undefined) {
        ending.add(socket);
        stopParsing(socket);
      }
    }
    // Sent ahead of the answer before it, not taken yet: it waits its turn.
    const before = open.get(socket);
    if (before !== undefined && !before.writableFinished) waitTurn(socket, res, before);
    // Last in the order now: its request is the newest.
    open.delete(socket);
    open.set(socket, res);
  });
  /** Closes the connection idle longest, else the one open longest without a request. */
  function makeRoom(): boolean {
    let unasked: Socket | undefined;
    for (const [socket, res] of open) {
      if (res === undefined) {
        unasked ??= socket;
        continue;
      }
      if (!res.writableEnded && !waitsOnClient(res)) continue;
      close(socket);
      counts.idle++;
      return true;
    }
    if (unasked === undefined) return false;
    close(unasked);
    counts.noRequest++;
    return true;
  }
  function waitTurn(socket: Socket, res: ServerResponse, before: ServerResponse): void {
    const set = turnsOf.get(socket) ?? new Set();
    turnsOf.set(socket, set);
    turns.set(
      res,
      new Promise<void>((resolve) => {
        const go = () => {
          set.delete(go);
          turns.delete(res);
          ahead.delete(res);
          resolve();
        };
        set.add(go);
        before.once("finish", go);
        ahead.set(res, before);
      }),
    );
  }
  function close(socket: Socket): void {
    open.delete(socket);
    socket.destroy();
  }
  return counts;
}

/**
 * The answers that wait for their client to take the one before them on their connection (HTTP/1.1
 * pipelining), each with its turn: Node sends a connection's answers in order, and the server built
 * every one at once, each held whole behind the unread one before it, so a client that sent 32 and
 * read nothing had the server hold 32 answers: 256 connections of 32 `GET /api/nodes?q=n-` (271 kB
 * each on a 3,000-node fleet) took a twins service from 127 MB to 2.40 GB.
 */
const turns = new WeakMap<ServerResponse, Promise<void>>();
/** The answer each one waiting its turn waits on. */
const ahead = new WeakMap<ServerResponse, ServerResponse>();

/**
 * True for an answer waiting its turn behind one built and not taken by the client: its connection
 * is as idle as one whose client has not read its last answer. Behind one still being built, it is
 * busy (a client that pipelines, served slowly).
 */
function waitsOnClient(res: ServerResponse): boolean {
  let at = ahead.get(res);
  while (at !== undefined) {
    if (at.writableEnded) return true;
    at = ahead.get(at);
  }
  return false;
}

/**
 * When the answer `res` may be built: at once (undefined), or once the client has taken the answer
 * before it on its connection (handed to the system to send), or the connection closed.
 */
export function answerTurn(res: ServerResponse): Promise<void> | undefined {
  return turns.get(res);
}

/** The requests refused for their address's bound, with why: answered 429 in their turn. */
const refusals = new WeakMap<IncomingMessage, Refusal>();
/** Connections ending with a 429, and the requests they sent after it: those are not answered. */
const ending = new WeakSet<Socket>();
const afterRefusal = new WeakSet<IncomingMessage>();

/**
 * Why `req` is refused for its address's bound, or undefined. A refused request's connection is
 * closed once it is answered, and the rest of its read left unparsed: the requests a client sent
 * ahead of that answer are not answered (skipRequest).
 */
export function refusalOf(req: IncomingMessage): Refusal | undefined {
  return refusals.get(req);
}

/**
 * True for a request whose connection is closed already (cut for sending too many requests ahead of
 * their answers, or gone) or ends with a 429 sent before it: the request that was one too many, and on a Node whose parser cannot be
 * stopped (node/stop-parsing.ts) every request of the read; answering each would only build answers
 * nobody can read.
 */
export function skipRequest(req: IncomingMessage): boolean {
  return req.socket.destroyed || afterRefusal.has(req);
}
