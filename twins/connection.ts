/**
 * How a tool logs in to the broker and what it says when it cannot: the login (user name, password,
 * TLS trust and client certificate) as MQTT.js connect options, the broker URL with any credentials
 * taken out of it (for every message and report), and a failed connection explained in one line —
 * which broker, and whether it was unreachable, its certificate untrusted or the login refused —
 * never with the password in it.
 */
import { isIP } from "node:net";
import type { IClientOptions, MqttClient } from "mqtt";
import { type Stall, stallSeconds } from "../node/stall-watch.js";
import { shown, withoutUserInfo } from "../protocol/shown.js";
import type { ConnectPhase } from "./connect-phase.js";

/** TLS settings for mqtts:// and wss:// brokers (PEM text or buffers). */
export interface BrokerTls {
  /** CA certificate(s) to trust besides the system's, e.g. the CA of a self-signed broker. */
  readonly ca?: string | Buffer;
  /** Client certificate and its key, for brokers that ask for one. */
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  /** Skip verifying the broker's certificate (testing only). */
  readonly insecure?: boolean;
}

export interface BrokerLogin {
  readonly username?: string;
  readonly password?: string;
  readonly tls?: BrokerTls;
}

/**
 * Each packet goes out as soon as it is written (TCP_NODELAY), on the first connection and on every
 * reconnect. MQTT.js leaves Nagle's algorithm on: a small packet written while an earlier one was
 * not yet acknowledged waited for the broker's delayed ACK (40 ms on Linux), so a command of several
 * awaited QoS 1 publishes took ~40 ms a publish — a `forget` (five of them) ~130 ms, where the broker
 * answers in about 1 ms. A WebSocket stream has no such switch (the ws library sets it itself).
 */
export function sendAtOnce(client: MqttClient): void {
  const set = () => (client.stream as { setNoDelay?: (on: boolean) => unknown }).setNoDelay?.(true);
  set();
  client.on("connect", set);
}

/** The schemes a tool may use to reach the broker. */
export const BROKER_SCHEMES = ["mqtt", "mqtts", "ws", "wss"] as const;

/**
 * Why a broker URL's text cannot be taken as it is: the URL parser drops spaces around a URL and
 * tabs and newlines in it, so a value holding one is a typo or a paste, not the URL it would become.
 */
export function urlTextProblem(url: string): string | undefined {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  return /[\s\u0000-\u001f\u007f]/.test(url) ? "must not hold spaces or control characters" : undefined;
}

/**
 * Why a broker URL's path, query or fragment cannot be taken, one rule for every command: MQTT over
 * TCP or TLS (mqtt://, mqtts://, tcp://) reaches a host and port alone, so a path or a query there
 * means nothing; over WebSocket (ws://, wss://) the path and query are the HTTP request's and are
 * kept. A fragment is never sent (RFC 6455 §3 forbids it on a WebSocket URL). The tools used to
 * drop a path on mqtt:// without a word, where `sim` refused it.
 */
export function urlPartsProblem(u: URL): string | undefined {
  const scheme = u.protocol.replace(/:$/, "");
  if (u.hash !== "") return `a URL's #fragment is never sent to the broker: leave out ${shown(u.hash)}`;
  if (scheme === "ws" || scheme === "wss") return undefined;
  const extra =
    u.pathname !== "" && u.pathname !== "/"
      ? `a path (${shown(u.pathname)})`
      : u.search !== ""
        ? `a query (${shown(u.search)})`
        : undefined;
  if (extra === undefined) return undefined;
  return `${scheme}:// has no use for ${extra}: MQTT over TCP or TLS reaches a host and port alone (a path or query is for ws:// and wss://), so give ${scheme}://host:port`;
}

/**
 * `url` with its IPv6 host put in brackets when it was given without (`mqtt://::1:1883` →
 * `mqtt://[::1]:1883`; its user info left out), else undefined. The URL parser refuses such a host,
 * or reads its last group as the port: `sim` told `mqtt://::1:1883` as `the port must be 1-65535`,
 * the tools as not an mqtt:// URL at all. A last group of digits is read as the port.
 */
export function bracketedIpv6(url: string): string | undefined {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^[/?#][^/?#]*)(.*)$/s.exec(withoutUserInfo(url));
  if (!m) return undefined;
  const [, scheme = "", authority = "", rest = ""] = m;
  const withPort = /^(.*):(\d{1,5})$/.exec(authority);
  if (withPort && isIP(withPort[1] ?? "") === 6) return `${scheme}[${withPort[1]}]:${withPort[2]}${rest}`;
  return isIP(authority) === 6 ? `${scheme}[${authority}]${rest}` : undefined;
}

/** `url` without user info; the user name and password it carried (URL-decoded), if any. */
export function splitBrokerUrl(url: string): { url: string; username?: string; password?: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { url: withoutUserInfo(url) };
  }
  if (u.username === "" && u.password === "") return { url };
  const username = u.username === "" ? undefined : decodeURIComponent(u.username);
  const password = u.password === "" ? undefined : decodeURIComponent(u.password);
  u.username = "";
  u.password = "";
  return {
    url: u.toString().replace(/\/$/, ""),
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
  };
}

/** The URL as it may be shown: without its credentials. */
export function displayUrl(url: string): string {
  return splitBrokerUrl(url).url;
}

/** MQTT.js options for a login: credentials, and TLS trust for secure schemes. */
export function loginOptions(login: BrokerLogin | undefined): IClientOptions {
  if (!login) return {};
  const tls = login.tls;
  return {
    ...(login.username !== undefined ? { username: login.username } : {}),
    ...(login.password !== undefined ? { password: login.password } : {}),
    ...(tls?.ca !== undefined ? { ca: tls.ca } : {}),
    ...(tls?.cert !== undefined ? { cert: tls.cert } : {}),
    ...(tls?.key !== undefined ? { key: tls.key } : {}),
    ...(tls?.insecure === true ? { rejectUnauthorized: false } : {}),
  };
}

/**
 * MQTT.js's WebSocket URL for a broker at an IPv6 address, brackets put back: MQTT.js takes the host
 * out of `ws://[::1]:8080` as `::1` and builds `ws://::1:8080/`, which is no URL (`Invalid URL`).
 * Its `transformWsUrl` option.
 */
export function bracketedWsUrl(url: string, options: { readonly hostname?: string | undefined }): string {
  const host = options.hostname;
  if (host === undefined || !host.includes(":") || host.startsWith("[")) return url;
  return url.replace(`//${host}:`, `//[${host}]:`);
}

/** Why a connection to the broker failed, for callers that act on it. */
export type ConnectFailure = "unreachable" | "timeout" | "tls" | "refused-login" | "refused";

/**
 * A failed connection to the broker; the message names the broker (no credentials) and the cause.
 * `transient`: trying again may succeed (nothing answers there yet, or the broker said it is not
 * available); a refused login, a certificate not trusted or a server that does not speak MQTT stay
 * as they are until someone changes them.
 */
export class BrokerConnectError extends Error {
  override readonly name = "BrokerConnectError";
  constructor(
    message: string,
    readonly reason: ConnectFailure,
    readonly transient = reason === "unreachable" || reason === "timeout",
    /** The process's own stall that the failure is (a timeout run out while it was stopped). */
    readonly stall?: Stall,
  ) {
    super(message);
  }
}

const TLS_TRUST_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

const UNTRUSTED = "give its CA with --ca <file>, or skip the check with --insecure";

/**
 * What to do about a certificate that is not trusted for a reason other than its CA: another CA
 * (--ca) or skipping the check (--insecure) is not the remedy for a certificate out of date or for
 * another host, and told as one it sent operators after the wrong file.
 */
const TLS_REMEDIES: Readonly<Record<string, string>> = {
  CERT_HAS_EXPIRED:
    "the broker must be given a renewed certificate (and reload it: kill -HUP, docs/broker.md), or this machine's clock is ahead",
  CERT_NOT_YET_VALID:
    "this machine's clock is behind, or the broker was given a certificate dated ahead (check both dates: openssl x509 -noout -dates)",
  ERR_TLS_CERT_ALTNAME_INVALID:
    "connect by a name or address the certificate holds, or have it reissued with this one in its subjectAltName",
};

const UNREACHABLE: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  EHOSTDOWN: "host down",
  ENETDOWN: "network down",
  ECONNABORTED: "connection aborted",
  ETIMEDOUT: "timed out",
  // A broker at its open-files limit resets a connection whose CONNECT came before it closed it.
  ECONNRESET:
    "connection reset (is it the right scheme, mqtt:// or mqtts://? A broker at its open-files limit, ulimit -n, resets new connections too)",
  EPIPE: "connection closed",
};

/** CONNACK return codes of MQTT 3.1.1 (§3.2.2.3). */
const CONNACK: Record<number, [ConnectFailure, string]> = {
  1: ["refused", "unacceptable protocol version"],
  2: ["refused", "client id rejected"],
  3: ["refused", "server unavailable"],
  4: ["refused-login", "bad user name or password"],
  5: ["refused-login", "not authorized"],
};

/**
 * The broker's answer when `err` is its refusal (a CONNACK with a non-zero code: "bad user name or
 * password", "client id rejected", …); undefined for any other error.
 */
export function refusalText(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code !== "number" || code <= 0) return undefined;
  return CONNACK[code]?.[1] ?? `CONNACK ${code}`;
}

/**
 * The parser errors of mqtt-packet: the bytes that came back are not MQTT. An HTTP server's
 * `HTTP/1.1 400` reads as a PUBACK with bad flag bits, a TLS alert as a CONNECT.
 */
const NOT_MQTT =
  /^(Invalid |Malformed |Cannot parse |Packet too short|Packet must not|Not supported|Unknown property|Connect flag|Will (QoS|Retain))/;

/**
 * What the broker's host name resolved to, as the attempt that failed went: ` (localhost is
 * 127.0.0.1)`, from the socket error's address (Node's AggregateError holds one error per address
 * it tried). A refusal by a name alone did not say where: a broker bound at ::1 and a tool given
 * `mqtt://localhost:1883`, localhost naming 127.0.0.1 alone, read as a broker not running, beside the
 * broker's own line `listening on [::1]:1883`. Nothing for an IP literal (the URL says it) or an
 * error naming no address. Sorted, so a name whose addresses come back in turns (round-robin DNS)
 * gives one text and a waiting service does not take each attempt for a new cause.
 */
function triedAt(err: unknown, url: string): string {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return "";
  }
  if (host === "" || host.startsWith("[") || isIP(host) !== 0) return "";
  const errors = (err as { errors?: unknown } | undefined)?.errors;
  const tried = [err, ...(Array.isArray(errors) ? errors : [])]
    .map((e) => (e as { address?: unknown } | undefined)?.address)
    .filter((a): a is string => typeof a === "string" && isIP(a) !== 0);
  const addresses = [...new Set(tried)].sort();
  return addresses.length === 0 ? "" : ` (${host} is ${addresses.join(" and ")})`;
}

/** One line for a failed connection to `url` (shown without credentials); `password` is masked. */
export function connectError(err: unknown, url: string, password?: string): BrokerConnectError {
  const where = `the broker at ${displayUrl(url)}`;
  const code = (err as { code?: unknown } | undefined)?.code;
  const raw = err instanceof Error ? err.message : String(err);
  const text = password ? raw.split(password).join("***") : raw;
  if (typeof code === "number" && code > 0) {
    const [reason, what] = CONNACK[code] ?? ["refused", `CONNACK ${code}`];
    // Mosquitto 2 answers a wrong or missing password with 5, not 4 (measured: 2.0.11, MQTT 3.1.1).
    const hint =
      code === 4
        ? " (check --username and --password)"
        : code === 5
          ? " (a wrong or missing user name or password, as Mosquitto 2 answers those, or a login its rules refuse: check --username and --password)"
          : "";
    // 3: the broker is there but not serving yet (starting, or shedding load): worth trying again.
    return new BrokerConnectError(`${where} refused the connection: ${what}${hint}`, reason, code === 3);
  }
  if (typeof code === "string" && TLS_TRUST_CODES.has(code)) {
    const why = code.includes("SELF_SIGNED") ? "self-signed certificate" : text;
    return new BrokerConnectError(`cannot trust ${where}: ${why}; ${TLS_REMEDIES[code] ?? UNTRUSTED}`, "tls");
  }
  if (text === "TLS not authorized" || (typeof code === "string" && code.startsWith("ERR_SSL"))) {
    return new BrokerConnectError(
      `TLS with ${where} failed: ${text} (see --ca, --cert, --key, --insecure)`,
      "tls",
    );
  }
  if (typeof code === "string" && code in UNREACHABLE) {
    const reason = code === "ETIMEDOUT" ? "timeout" : "unreachable";
    // A reset or a closed pipe comes after the connection was made: where is not in question.
    const at = code === "ECONNRESET" || code === "EPIPE" ? "" : triedAt(err, url);
    return new BrokerConnectError(`cannot reach ${where}: ${UNREACHABLE[code]}${at}`, reason);
  }
  if (code === undefined && NOT_MQTT.test(text)) {
    return new BrokerConnectError(
      `cannot connect to ${where}: what answered there does not speak MQTT (${text}); is it the broker's MQTT port? An HTTP server answers this way; MQTT over WebSocket needs ws:// or wss://, a TLS port mqtts://`,
      "refused",
    );
  }
  // Not one of the causes known to pass (a WebSocket path the server does not serve, say): not
  // tried again, so a mistake is told at once instead of retried for ever.
  return new BrokerConnectError(`cannot connect to ${where}: ${text}`, "unreachable", false);
}

/**
 * The error for a connection that did not get the broker's answer to the CONNECT in time, saying how
 * far it got (`phase`, twins/connect-phase.ts): the name not resolved, no connection to the address,
 * or connected and no CONNACK (also when that is not known). With `stall`, the process itself did not
 * run meanwhile (node/stall-watch.ts: stopped, its VM paused): its timer ran out while it was stopped,
 * before it could read the answer, and the broker and the network are not to blame. Worth trying again.
 */
export function connectTimeoutError(
  url: string,
  ms: number,
  phase?: ConnectPhase,
  stall?: Stall,
): BrokerConnectError {
  if (stall !== undefined)
    return new BrokerConnectError(
      `no answer yet from the broker at ${displayUrl(url)}, but the service itself did not run for ${stallSeconds(stall)} s while it connected (its host stopped or paused it): its own stall, not the broker's or the network's`,
      "timeout",
      true,
      stall,
    );
  const where = `cannot reach the broker at ${displayUrl(url)}`;
  const within = `within ${ms / 1000} s`;
  if (phase?.at === "accepted") {
    const what = phase.subscribed
      ? "its first publishes (PUBACK) after its subscriptions"
      : "its subscriptions (SUBACK)";
    return new BrokerConnectError(
      `the broker at ${displayUrl(url)} accepted the connection (CONNACK) but did not answer ${what} ${within}: it is overloaded or stuck (see its log), or its access rules or something between drop what this client sends`,
      "timeout",
    );
  }
  if (phase?.at === "resolving")
    return new BrokerConnectError(
      `${where}: could not resolve ${phase.host} ${within} (the resolver did not answer)`,
      "timeout",
    );
  if (phase?.at === "connecting")
    return new BrokerConnectError(
      `${where}: could not connect to ${phase.address} ${within} (nothing answered: the host is down or unreachable, or a firewall drops the connection)`,
      "timeout",
    );
  return new BrokerConnectError(`${where}: no answer (CONNACK) within ${ms} ms`, "timeout");
}

/** A first connect ended by the service's own close (a run's stop): not the broker's fault, not retried. */
export function closedBeforeUpError(url: string): BrokerConnectError {
  return new BrokerConnectError(
    `the twins service closed before its connection to ${displayUrl(url)} was up`,
    "unreachable",
    false,
  );
}
