/**
 * Who may do what: writes (POST, PUT, DELETE) always need `Authorization: Bearer TOKEN`; reads need it
 * only when the server listens beyond loopback. The page itself (`/`, `/app/*`) and `/healthz` are
 * public — the page cannot carry a header before it has read the token from its URL. `/api/events`
 * also takes the token as `?token=` (for an EventSource, which cannot send headers; the page sends the
 * header, as proxies log URLs), and only there. Tokens are
 * compared in constant time (their SHA-256 digests, so their lengths do not leak either). No cookies.
 * A request a reverse proxy forwarded (it carries a forwarding header) is one from beyond loopback,
 * whatever the bind: its reads need the token, and its Host is the name the proxy was asked for.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { FastifyRequest } from "fastify";
import { isLoopbackAddress } from "../broker/index.js";
import { ProblemError } from "./problem.js";

const WRITES = new Set(["POST", "PUT", "DELETE", "PATCH"]);

/**
 * A loopback name: `localhost` (any case, a trailing dot allowed), `::1`, or an IPv4 literal in
 * 127.0.0.0/8. Only a literal: `127.0.0.1.evil.example` and `127.0.0.1.nip.io` are names a page's
 * DNS can point anywhere, and used to pass (the check read the first characters only).
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, "");
  if (h === "localhost" || h === "::1" || h === "[::1]") return true;
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  return m?.slice(1).every((octet) => Number(octet) <= 255) ?? false;
}

/** `host` (from a Host header) is the name `bound` (any case, a trailing dot allowed). */
function sameName(host: string, bound: string | undefined): boolean {
  if (bound === undefined) return false;
  const plain = (s: string) =>
    s
      .toLowerCase()
      .replace(/\.$/, "")
      .replace(/^\[|\]$/g, "");
  return plain(host) === plain(bound);
}

/** A fresh token: 32 random bytes, base64url (43 characters). */
export function newToken(): string {
  return randomBytes(32).toString("base64url");
}

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();

export function sameToken(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** The request carries this server's token (the Bearer header, or `?token=` on the event stream). */
export function carriesToken(req: FastifyRequest, token: string): boolean {
  const given = tokenOf(req);
  return given !== undefined && sameToken(given, token);
}

/** The token a request carries: the Bearer header, or `?token=` on the event stream only. */
function tokenOf(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (typeof h === "string") {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
    return m?.[1];
  }
  if (req.routeOptions.url === "/api/events") {
    const q = (req.query as Record<string, unknown> | undefined)?.token;
    if (typeof q === "string") return q;
  }
  return undefined;
}

/**
 * The headers a reverse proxy adds: RFC 7239 `Forwarded`, the `X-Forwarded-*` family, `X-Real-IP`,
 * `Via` (Debian's nginx `proxy_params` sends `X-Real-IP`, `X-Forwarded-For` and `-Proto`).
 */
const PROXY_HEADERS = [
  "forwarded",
  "x-forwarded-for",
  "x-forwarded-host",
  "x-forwarded-proto",
  "x-real-ip",
  "via",
] as const;

/**
 * The request came through a reverse proxy: from wherever the proxy is reached, not from this host,
 * though the connection is the proxy's own, on loopback. Only ever makes the rules stricter (reads
 * need the token), so a client that adds such a header itself gains nothing.
 */
export function isProxied(req: FastifyRequest): boolean {
  return PROXY_HEADERS.some((h) => req.headers[h] !== undefined);
}

/**
 * The connection came from this host's loopback. On a loopback bind it always does; judged on each
 * request all the same, so reads are open only to a client that is on loopback itself, whatever the
 * bind was judged to be.
 */
export function fromLoopback(req: FastifyRequest): boolean {
  const remote = req.raw.socket?.remoteAddress;
  return remote !== undefined && isLoopbackAddress(remote);
}

const isPublic = (url: string) => url === "/" || url === "/healthz" || url.startsWith("/app/");

/**
 * On a loopback bind, where reads need no token, the request must name a loopback host, or the name
 * the server was told to listen on (`bound`: `--http vm:8080`, `vm` resolving to 127.0.0.1 alone): a
 * page on another site whose name was pointed at 127.0.0.1 (DNS rebinding) sends its own name, and is
 * refused. `loopback` is false for a proxied request (isProxied): it names the site the proxy serves,
 * and its reads need the token, so a rebound page gets a 401 instead.
 */
export function checkHost(req: FastifyRequest, loopback: boolean, bound?: string): void {
  // RFC 9112 §3.2: an HTTP/1.1 request without a Host header is answered 400, and any request with
  // more than one. Node keeps the first and drops the others, so `Host: 127.0.0.1` then `Host:
  // evil.example` was judged a loopback request, where a proxy in front that read the last judged
  // another.
  if (req.headers.host === undefined && req.raw.httpVersion === "1.1")
    throw new ProblemError(400, "Host: is missing (an HTTP/1.1 request must name its host)", "Host");
  if (hostLines(req.raw.rawHeaders) > 1)
    throw new ProblemError(400, "Host: is given more than once (a request names one host)", "Host");
  if (!loopback) return;
  const host = (req.headers.host ?? "").replace(/:\d+$/, "");
  if (host === "" || isLoopbackHost(host) || sameName(host, bound)) return;
  const as = bound !== undefined && !isLoopbackHost(bound) ? `${bound}, ` : "";
  throw new ProblemError(
    403,
    `Host ${host} is not a loopback name: open the server as ${as}127.0.0.1, localhost or [::1]`,
    "Host",
  );
}

/** How many Host header lines `raw` (Node's rawHeaders: name, value, name, value…) holds. */
function hostLines(raw: readonly string[]): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]?.toLowerCase() === "host") n++;
  return n;
}

/**
 * Throws a 401 when `req` needs the token and does not carry it (or carries another). `loopback`: the
 * request is from this host, on a loopback bind, and not proxied (reads are open).
 */
export function authorize(
  req: FastifyRequest,
  token: string,
  loopback: boolean,
  /** Where a client finds the token, for the 401 without one. */
  tokenFrom = "the token is in the URL the server printed",
): void {
  const url = req.routeOptions.url ?? req.url;
  const write = WRITES.has(req.method);
  if (!write && (loopback || isPublic(url))) return;
  const given = tokenOf(req);
  if (given !== undefined && sameToken(given, token)) return;
  const detail =
    given === undefined
      ? `${write ? "a write" : isProxied(req) ? "a read through a reverse proxy" : "a read beyond loopback"} needs Authorization: Bearer TOKEN (${tokenFrom})`
      : "the bearer token is not this server's";
  throw new ProblemError(401, detail, undefined, { "www-authenticate": 'Bearer realm="twinfleet"' });
}
