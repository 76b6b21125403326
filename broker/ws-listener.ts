/**
 * The MQTT-over-WebSocket listener: an HTTP server that answers only upgrades, each admitted by
 * source address before it is read (rate, connections before CONNECT, bans: broker/abuse-guard.ts),
 * its upgrade request held no longer than a CONNECT (the two share one --connect-timeout from
 * accept: broker/connect-budget.ts), and each WebSocket handed to the broker as a stream once open.
 * MQTT 3.1.1 §6 is kept: the `mqtt` subprotocol is the one chosen (a request offering only others
 * is refused, 400), and a text frame closes the connection
 * ([MQTT-6.0.0-1]: MQTT is carried in binary frames only). What the ws library refuses (a message
 * over the packet limit, too many fragments, a malformed frame) is told as a WebSocketFrameError
 * (webSocketError(), broker/client-errors.ts), so it is logged and counted as the plain port's packet
 * limit and protocol errors are. Pings are answered here, not by ws: ws ends a connection with more
 * than 60 pongs unsent by terminating its socket, which its stream tells as a plain end (no error, no
 * close frame), so a ping flood was cut without a trace; here it is a WebSocketFrameError too.
 * A request that is not an upgrade is answered 426 and its connection closed, the rest of its read
 * not parsed.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { createWebSocketStream, WebSocket, WebSocketServer } from "ws";
import { after, type Scheduler, type Timer } from "../node/scheduler.js";
import { stopParsing } from "../node/stop-parsing.js";
import type { RefusalReason } from "./figures.js";
import { type JustStalled, NEVER_STALLED, readyIoJudge } from "./ready-io.js";

/** Subprotocols an MQTT client offers, in the order chosen: MQTT 3.1.1's, then 3.1's. */
const MQTT_SUBPROTOCOLS = ["mqtt", "mqttv3.1"] as const;

/** What a connection did over WebSocket that MQTT or the packet limit does not allow. */
export type WebSocketViolation = "too-large" | "text-frame" | "malformed-frame" | "ping-flood";

/** Pongs not yet written (the client takes none, or pings faster than they go) before a cut: ws's own cap. */
export const MAX_PENDING_PONGS = 60;

export class WebSocketFrameError extends Error {
  override readonly name = "WebSocketFrameError";
  constructor(
    readonly violation: WebSocketViolation,
    message: string,
  ) {
    super(message);
  }
}

/** The ws library's error codes (lib/receiver.js) for a message past maxPayload or maxFragments. */
const TOO_LARGE_CODES = new Set([
  "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH",
  "WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH",
  "WS_ERR_TOO_MANY_BUFFERED_PARTS",
]);

/** A ws library error as the violation it tells of; any other error is returned as it is. */
export function webSocketError(err: Error): Error {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== "string" || !code.startsWith("WS_ERR_")) return err;
  return TOO_LARGE_CODES.has(code)
    ? new WebSocketFrameError("too-large", `WebSocket message over the packet limit (${err.message})`)
    : new WebSocketFrameError("malformed-frame", `malformed WebSocket frame (${err.message})`);
}

export interface WebSocketListenerOptions {
  readonly maxPacketBytes: number;
  readonly connectTimeoutMs: number;
  /** The broker's clock (broker/connect-budget.ts): an upgrade request's deadline from accept is on it. */
  readonly clock: Scheduler;
  /** A raw socket just accepted: false when it was refused (and destroyed) before anything is read. */
  admit(socket: Socket): boolean;
  /** An open WebSocket's stream, from the upgrade request `req`. */
  handle(stream: Duplex, req: IncomingMessage): void;
  /** A connection refused before it became a stream: logged by the caller, and counted under `reason`. */
  refused(reason: RefusalReason | undefined, remote: string | undefined, detail: string): void;
  /** The ws server's own error (not a client's). */
  serverError(err: Error): void;
  /** The broker's own stalls (broker/ready-io.ts): an upgrade's time that came due in one is given again. */
  readonly stalled?: JustStalled;
}

export function webSocketListener(opts: WebSocketListenerOptions): {
  http: Server;
  wss: WebSocketServer;
} {
  // The connections answered 426 already: a request parsed after (on a Node whose parse cannot be
  // stopped) is left unanswered.
  const notUpgrades = new WeakSet<object>();
  // An upgrade request that never completes is held no longer than a CONNECT that never comes: timed
  // below from accept. Node's own request timeouts are off: its check is a timer too, and after a
  // freeze it answered 408 to the upgrade requests waiting unread (50 of 50 after a 3 s stop under
  // --connect-timeout 2000).
  const connectBy = { headersTimeout: 0, requestTimeout: 0 };
  // A request that is not an upgrade is answered 426 and its connection closed, the rest of its read
  // left unparsed (node/stop-parsing.ts): the port serves nothing else. It was kept alive, so a
  // client writing plain GETs ahead of their answers and reading none had every one parsed and its
  // answer held until the connect timeout: 150 such sockets took the broker from 133 MB to 424 MB
  // and its 50 nodes' p99 sync to 4.7 s.
  const http = createHttpServer(connectBy, (req, res) => {
    const socket = req.socket;
    stopParsing(socket);
    if (notUpgrades.has(socket)) return;
    notUpgrades.add(socket);
    // The method only (one of the few Node parses): the log summarises its lines by their text.
    opts.refused(
      undefined,
      socket.remoteAddress,
      `not a WebSocket upgrade request (${req.method}): answered 426 and closed`,
    );
    res.shouldKeepAlive = false;
    res.writeHead(426, { "content-type": "text/plain" }).end("MQTT over WebSocket only\n");
    // Closed once the answer is handed to the system, read or not.
    res.once("finish", () => socket.destroy());
  });
  const wss = new WebSocketServer({
    server: http,
    // ws's own cap on one message: MQTT.js writes at most one packet per message.
    maxPayload: opts.maxPacketBytes,
    // Answered in the connection's "ping" listener, so that a flood is told (ws's cap only terminates).
    autoPong: false,
    handleProtocols: (offered) => MQTT_SUBPROTOCOLS.find((p) => offered.has(p)) ?? false,
    // A client offering subprotocols, none of them MQTT's, speaks something else: refused before the
    // upgrade. One offering none (a bare WebSocket tool) is let in.
    verifyClient: ({ req }, done) => {
      const offered = req.headers["sec-websocket-protocol"];
      if (offered === undefined) return done(true);
      const names = offered.split(",").map((p) => p.trim());
      if (MQTT_SUBPROTOCOLS.some((p) => names.includes(p))) return done(true);
      opts.refused(
        "ws-subprotocol",
        req.socket.remoteAddress,
        `WebSocket upgrade refused: subprotocol ${JSON.stringify(offered)} is not mqtt`,
      );
      done(false, 400, "MQTT over WebSocket needs the mqtt subprotocol");
    },
  });
  // Node times an upgrade request from its first byte: a socket silent for a while, then slow, was
  // held for both (and then for a whole CONNECT timeout). Its deadline runs from accept instead,
  // judged after the ready I/O and given again when it came due while the broker did not run
  // (broker/ready-io.ts): a timer that cut at once cut, after a freeze, the upgrades waiting unread.
  const upgradeBy = new WeakMap<object, Timer>();
  wss.on("connection", (ws, req) => {
    upgradeBy.get(req.socket)?.cancel();
    upgradeBy.delete(req.socket);
    const stream = createWebSocketStream(ws);
    // Before the stream's own listeners: a text frame is never handed on as MQTT bytes.
    ws.prependListener("message", (_data, isBinary) => {
      if (isBinary) return;
      ws.close(1003, "MQTT needs binary frames");
      stream.destroy(
        new WebSocketFrameError("text-frame", "WebSocket text frame: MQTT is carried in binary frames only"),
      );
    });
    let pendingPongs = 0;
    const pongSent = () => pendingPongs--;
    ws.on("ping", (data) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      if (pendingPongs < MAX_PENDING_PONGS) {
        pendingPongs++;
        ws.pong(data, false, pongSent);
        return;
      }
      // Its socket closed at once (the stream's destroy terminates it): a close frame would wait
      // behind the pongs the client does not read.
      stream.destroy(
        new WebSocketFrameError(
          "ping-flood",
          `WebSocket ping flood: over ${MAX_PENDING_PONGS} pongs unsent (the client pings faster than it reads)`,
        ),
      );
    });
    opts.handle(stream, req);
  });
  wss.on("error", (err) => opts.serverError(err));
  const timedOut = (socket: Duplex) =>
    opts.refused(
      "ws-upgrade-timeout",
      (socket as Partial<Socket>).remoteAddress,
      `WebSocket upgrade request not whole within ${opts.connectTimeoutMs} ms`,
    );
  http.on("connection", (socket: Socket) => {
    if (!opts.admit(socket)) return;
    const judge = readyIoJudge(opts.stalled ?? NEVER_STALLED);
    const arm = (): void => {
      const timer = after(opts.clock, opts.connectTimeoutMs, () => {
        judge({
          // the upgrade done meanwhile cleared it (and then the socket is the WebSocket's)
          due: () => upgradeBy.get(socket) === timer && !socket.destroyed,
          heard: () => false,
          extend: arm,
          expire: () => {
            timedOut(socket);
            if (socket.writable) socket.end("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n");
            socket.destroy();
          },
        });
      });
      upgradeBy.set(socket, timer);
    };
    arm();
    socket.once("close", () => upgradeBy.get(socket)?.cancel());
  });
  // An upgrade request not whole within --connect-timeout, or not HTTP: answered as node would.
  http.on("clientError", (err: NodeJS.ErrnoException, socket: Duplex) => {
    const timeout = err.code === "ERR_HTTP_REQUEST_TIMEOUT";
    const overflow = err.code === "HPE_HEADER_OVERFLOW";
    const remote = (socket as Partial<Socket>).remoteAddress;
    if (timeout) {
      timedOut(socket);
    } else if (err.code !== "ECONNRESET" && err.code !== "HPE_INVALID_EOF_STATE") {
      // (Those two: the client hung up before its request was whole.) Said in words, the code kept.
      const what = overflow ? "request line and headers over 16 KiB, Node's bound" : "not an HTTP request";
      opts.refused(
        undefined,
        remote,
        `${what} (${err.code ?? err.message}): answered ${overflow ? 431 : 400} and closed`,
      );
    }
    const status = timeout
      ? "408 Request Timeout"
      : overflow
        ? "431 Request Header Fields Too Large"
        : "400 Bad Request";
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
    socket.destroy();
  });
  return { http, wss };
}
