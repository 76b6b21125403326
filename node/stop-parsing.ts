/**
 * Ending Node's parse of a closed connection's read, for the web server (web/connection-limits.ts) and
 * the broker's WebSocket listener (broker/ws-listener.ts), which answers one request that is not an
 * upgrade and closes. Node reads a connection up to 64 KiB at a time
 * and parses every request in the read in one go, building each one's request and response and
 * handing it to the server, closed connection or not: a connection cut at its 33rd request sent ahead
 * of its answers (web/connection-limits.ts) still had the other 1,500 short requests of its read built
 * and routed, each then left unanswered. 150 such connections, each writing 64 KiB of
 * `GET /api/convergence` once, took a twins service to 425 MB and `/healthz` to 5.7 s (docs/web.md).
 *
 * Node has no public way to stop a parse under way. Its parser (the socket's `parser`, internal) stops
 * at the request whose headers' handler (`onIncoming`, set anew for each connection the parser serves)
 * answers 2, "this connection is upgraded": the rest of the read is not HTTP, and Node leaves it to
 * an upgrade that, on a closed socket, never reads it. A Node without that parser keeps parsing, and
 * the requests are still left unanswered (skipRequest).
 */
import type { Socket } from "node:net";

/** What Node's parser answers for a request whose headers are in: 2 ends the read there. */
const END_OF_READ = 2;

/**
 * Makes Node's parser of `socket`, closed now or answering its last request, stop at the next request
 * of the read under way; true when this Node's parser could be told so.
 */
export function stopParsing(socket: Socket): boolean {
  const parser = (socket as Socket & { parser?: { onIncoming?: unknown } | null }).parser;
  if (typeof parser?.onIncoming !== "function") return false;
  parser.onIncoming = () => END_OF_READ;
  return true;
}
