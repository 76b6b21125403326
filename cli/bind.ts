/**
 * What `twinfleet broker` says when it listens: the address each listener is bound to and a URL to
 * reach it by (a LAN address for a wildcard bind), and a warning when it listens beyond loopback
 * without credentials.
 */
import { networkInterfaces } from "node:os";

export interface Bound {
  readonly host: string;
  readonly port: number;
  readonly tlsPort?: number;
  readonly wsPort?: number;
}

const WILDCARD = new Set(["0.0.0.0", "::", "[::]"]);

export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127\./.test(host);
}

/** The first non-internal IPv4 address of this host, else `localhost`. */
export function lanAddress(interfaces = networkInterfaces()): string {
  for (const list of Object.values(interfaces)) {
    for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return "localhost";
}

/** `listening on 0.0.0.0:1883 (mqtt://192.168.1.20:1883), …` for each listener. */
export function bindMessage(b: Bound, lan: () => string = lanAddress): string {
  const reach = WILDCARD.has(b.host) ? lan() : b.host.includes(":") ? `[${b.host}]` : b.host;
  const bound = b.host.includes(":") ? `[${b.host}]` : b.host;
  const one = (scheme: string, port: number) => `${bound}:${port} (${scheme}://${reach}:${port})`;
  const parts = [one("mqtt", b.port)];
  if (b.tlsPort !== undefined) parts.push(`TLS ${one("mqtts", b.tlsPort)}`);
  if (b.wsPort !== undefined) parts.push(`WebSocket ${one("ws", b.wsPort)}`);
  return `twinfleet broker listening on ${parts.join(", ")}`;
}

/** The warning for a broker anyone on the network may use, or undefined. */
export function exposureWarning(host: string, auth: boolean): string | undefined {
  if (auth || isLoopback(host)) return undefined;
  return `listening beyond loopback (${host}) without --auth: anyone who can reach this host may connect, publish and subscribe; give --auth FILE (docs/broker.md), or --host 127.0.0.1`;
}
