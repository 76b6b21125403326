/**
 * What the broker does with its clients' errors: one bad client must never take it down, so every
 * error event is logged (the first of each connection; the rest only repeat it; the ordinary ones, and
 * apart the cuts it decides, at most twenty lines in ten seconds each, broker/client-error-log.ts)
 * and none is thrown;
 * and each refusal or cut it tells of is counted by reason (broker/figures.ts) for `/metrics`.
 */
import type { EventEmitter } from "node:events";
import type { Aedes } from "aedes";
import type { Logger } from "pino";
import { AuthRefusedError } from "./acl.js";
import { ClientErrorLog } from "./client-error-log.js";
import { ConformanceError } from "./conformance.js";
import { CONNECT_TIMEOUT } from "./connect-budget.js";
import type { BrokerTally, CutReason, RefusalReason } from "./figures.js";
import { FrameLimitError } from "./frame-limit.js";
import { LoginRefusedError } from "./login-guard.js";
import { OutboundLimitError } from "./outbound.js";
import { WebSocketFrameError, webSocketError } from "./ws-listener.js";

/** Returns the log of ordinary client errors, for the listeners' refusals before a client exists. */
export function watchAedes(aedes: Aedes, logger: Logger, tally: BrokerTally): ClientErrorLog {
  const errorLog = new ClientErrorLog(logger);
  aedes.once("closed", () => errorLog.stop());
  // Aedes reports an error for each write still under way when a connection dies ("connection
  // closed"); the first error says why, the rest only repeat it.
  const reported = new WeakSet<object>();
  const onError = (client: object, clientId: string | undefined, raw: Error) => {
    // What the ws library refused over WebSocket, as the broker's own cut (packet limit, protocol).
    const err = webSocketError(raw);
    // Closing, aedes ends every client with the writes still under way ("connection closed") and the
    // wills it publishes after its emitter has closed ("mqemitter is closed"): the close's doing.
    if (aedes.closed) {
      logger.debug({ clientId, err: err.message }, "client error while the broker closes");
      return;
    }
    if (reported.has(client)) {
      logger.debug({ clientId, err: err.message }, "client error after the first");
      return;
    }
    reported.add(client);
    count(tally, err);
    // Its address (FrameLimitedStream's, every listener's): a cut names who was cut, as a refusal does.
    const remote = (client as { conn?: { remoteAddress?: string } }).conn?.remoteAddress;
    logClientError(logger, errorLog, clientId, remote, err);
  };
  aedes.on("clientError", (client, err) => onError(client, client.id, err));
  aedes.on("connectionError", (client, err) => onError(client, undefined, err));
  // Not in aedes's typed event map, but emitted (e.g. by will clean-up); unhandled it would throw.
  const emitter: EventEmitter = aedes;
  emitter.on("error", (err: Error) => logger.error({ err }, "broker error"));
  aedes.on("client", (client) => logger.debug({ clientId: client.id }, "client connected"));
  aedes.on("clientDisconnect", (client) => logger.debug({ clientId: client.id }, "client disconnected"));
  return errorLog;
}

/** aedes's own errors, known by their words (lib/client.js). */
const KEEPALIVE_TIMEOUT = "keep alive timeout";

/** The refusal or cut an error tells of; undefined for one the client caused by going (a reset). */
export function reasonOf(
  err: Error,
): { readonly refused: RefusalReason } | { readonly cut: CutReason } | undefined {
  if (err instanceof AuthRefusedError) return { refused: "bad-login" };
  if (err instanceof LoginRefusedError)
    return { refused: err.refusal.kind === "username-banned" ? "username-banned" : "address-banned" };
  if (err instanceof FrameLimitError)
    return { cut: err.violation.kind === "too-large" ? "packet-too-large" : "malformed-length" };
  if (err instanceof OutboundLimitError)
    return { cut: err.violation.kind === "queue-full" ? "queue-full" : "stalled" };
  if (err instanceof ConformanceError) return { cut: "protocol-violation" };
  if (err instanceof WebSocketFrameError)
    return {
      cut:
        err.violation === "too-large"
          ? "packet-too-large"
          : err.violation === "ping-flood"
            ? "ping-flood"
            : "protocol-violation",
    };
  if (err.message === CONNECT_TIMEOUT) return { refused: "connect-timeout" };
  if (err.message === KEEPALIVE_TIMEOUT) return { cut: "keepalive-timeout" };
  return undefined;
}

function count(tally: BrokerTally, err: Error): void {
  const reason = reasonOf(err);
  if (reason === undefined) return;
  if ("refused" in reason) tally.refused[reason.refused]++;
  else tally.cut[reason.cut]++;
}

function logClientError(
  logger: Logger,
  errorLog: ClientErrorLog,
  clientId: string | undefined,
  remote: string | undefined,
  err: Error,
): void {
  if (err instanceof AuthRefusedError) {
    // The access rules logged the refusal, with the user name and why.
    logger.debug({ clientId, err: err.message }, "login refused");
  } else if (err instanceof LoginRefusedError) {
    // The ban was logged when it started; its refusals are not, one by one.
    logger.debug({ clientId, refusal: err.refusal.kind }, "login refused: banned");
  } else if (err instanceof FrameLimitError) {
    errorLog.cut("packet limit", () =>
      logger.warn(
        { clientId, remote, violation: err.violation, bytesSeen: err.bytesSeen },
        "connection cut: packet limit",
      ),
    );
  } else if (err instanceof WebSocketFrameError && err.violation === "too-large") {
    errorLog.cut("packet limit", () =>
      logger.warn({ clientId, remote, err: err.message }, "connection cut: packet limit"),
    );
  } else if (err instanceof OutboundLimitError) {
    const v = err.violation;
    const what = v.kind === "queue-full" ? "outbound queue full" : "socket stalled";
    errorLog.cut(what, () =>
      logger.warn(
        v.kind === "queue-full"
          ? { clientId, remote, queuedBytes: v.queuedBytes, limit: v.limit, err: err.message }
          : {
              clientId,
              remote,
              queuedBytes: v.queuedBytes,
              stalledMs: Math.round(v.stalledMs),
              err: err.message,
            },
        `connection cut: ${what}`,
      ),
    );
  } else {
    errorLog.log(clientId, err, remote);
  }
}
