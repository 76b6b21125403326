/**
 * What `twinfleet broker` says when it listens: the address each listener is bound to and a URL to
 * reach it by (a LAN address for a wildcard bind), and a warning when it listens beyond loopback
 * without credentials.
 */
import { isIP } from "node:net";
import { networkInterfaces } from "node:os";
import { isLoopbackAddress } from "../broker/index.js";

export interface Bound {
  readonly host: string;
  readonly port: number;
  readonly tlsPort?: number;
  readonly wsPort?: number;
  /** The addresses the listeners are bound to: every one a host name resolves to. */
  readonly addresses?: readonly string[];
}

const WILDCARD = new Set(["0.0.0.0", "::", "[::]"]);

export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127\./.test(host);
}

/**
 * An address of this host to reach a wildcard bind by: the first non-internal IPv4 address (a W5100
 * board speaks IPv4 alone); for `::`, which takes IPv6 too (`ipv6`), on a host without one, the first
 * non-internal IPv6 address that is not link-local (an fe80:: address needs the interface named, which
 * a URL cannot hold), in brackets; else `localhost`. An IPv6-only host's `--host ::` used to be told
 * as `mqtt://localhost:1883`, which no other machine can use.
 */
export function lanAddress(interfaces = networkInterfaces(), ipv6 = false): string {
  const all = Object.values(interfaces).flatMap((list) => list ?? []);
  const v4 = all.find((a) => a.family === "IPv4" && !a.internal);
  if (v4 !== undefined) return v4.address;
  const v6 = ipv6
    ? all.find((a) => a.family === "IPv6" && !a.internal && !/^fe[89ab]/i.test(a.address))
    : undefined;
  return v6 !== undefined ? `[${v6.address}]` : "localhost";
}

/** `listening on 0.0.0.0:1883 (mqtt://192.168.1.20:1883), …` for each listener. */
export function bindMessage(
  b: Bound,
  lan: (ipv6: boolean) => string = (v6) => lanAddress(undefined, v6),
): string {
  const reach = WILDCARD.has(b.host)
    ? lan(b.host !== "0.0.0.0")
    : b.host.includes(":")
      ? `[${b.host}]`
      : b.host;
  const bound = b.host.includes(":") ? `[${b.host}]` : b.host;
  const one = (scheme: string, port: number) => `${bound}:${port} (${scheme}://${reach}:${port})`;
  const parts = [one("mqtt", b.port)];
  if (b.tlsPort !== undefined) parts.push(`TLS ${one("mqtts", b.tlsPort)}`);
  if (b.wsPort !== undefined) parts.push(`WebSocket ${one("ws", b.wsPort)}`);
  // A name is bound at each address it resolves to, which the name alone does not say.
  const named = b.addresses !== undefined && isIP(b.host) === 0 && !WILDCARD.has(b.host);
  const at = named ? `; ${b.host} is ${b.addresses?.join(" and ")}` : "";
  return `twinfleet broker listening on ${parts.join(", ")}${at}`;
}

/**
 * The warning for a broker anyone on the network may use, or undefined. `addresses`: those a host
 * name resolved to; a name whose addresses are all loopback is not exposed.
 */
export function exposureWarning(
  host: string,
  auth: boolean,
  addresses?: readonly string[],
): string | undefined {
  const loopback =
    addresses !== undefined && addresses.length > 0 ? addresses.every(isLoopbackAddress) : isLoopback(host);
  if (auth || loopback) return undefined;
  return `listening beyond loopback (${host}) without --auth: anyone who can reach this host may connect, publish and subscribe; give --auth FILE (docs/broker.md), or --host 127.0.0.1`;
}
