/**
 * How far MQTT.js's connection attempt got when its connect timed out: still resolving the broker's
 * host name, connecting to an address (no TCP connection yet), or connected (the broker did not
 * answer the CONNECT). A timeout told as the broker's ("no answer (CONNACK)") when the name never
 * resolved, or when nothing answered at the address (a host down, a firewall dropping the packets),
 * sent the operator to look at a broker that was never reached.
 */
import type { EventEmitter } from "node:events";
import { isIP } from "node:net";

export type ConnectPhase =
  | { readonly at: "resolving"; readonly host: string }
  | { readonly at: "connecting"; readonly address: string }
  | { readonly at: "connected" }
  /**
   * The broker answered the CONNECT (CONNACK), and not what the service sent next within the connect
   * timeout: its subscriptions (SUBACK) or, once subscribed, its first publishes (PUBACK). Told by
   * twins/broker-link.ts, which sends them; it was told as "no answer (CONNACK)".
   */
  | { readonly at: "accepted"; readonly subscribed: boolean };

/** What of an MQTT.js client this reads: its current stream, and its `reconnect` event. */
export interface PhaseClient {
  readonly stream: unknown;
  on(event: "reconnect", listener: () => void): unknown;
}

/** A TCP (or TLS) socket's part: its `connecting` flag (what tells a socket), `lookup` and `connect`. */
interface SocketLike extends EventEmitter {
  readonly connecting: boolean;
}

const isSocket = (s: unknown): s is SocketLike =>
  typeof s === "object" && s !== null && typeof (s as { connecting?: unknown }).connecting === "boolean";

/**
 * Follows each stream the client opens to `url` (the first, and each one a reconnect opens); returns
 * what the current one has got to, or undefined when that is not known (a WebSocket, a stream not
 * followed).
 */
export function followConnectPhase(client: PhaseClient, url: string): () => ConnectPhase | undefined {
  let host = "";
  let port = "";
  try {
    const u = new URL(url);
    host = u.hostname.replace(/^\[(.*)\]$/, "$1");
    port = u.port !== "" ? u.port : u.protocol === "mqtts:" ? "8883" : "1883";
  } catch {
    return () => undefined;
  }
  const at = (address: string) => (address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`);
  const literal = isIP(host) !== 0;
  /**
   * The streams followed: the address a name resolved to (once it has), and whether the connection
   * was made. Kept as the events came: MQTT.js destroys the stream before it reports the timeout.
   */
  const followed = new WeakMap<object, { address?: string; connected: boolean }>();
  const follow = (stream: unknown) => {
    if (!isSocket(stream) || followed.has(stream)) return;
    const seen: { address?: string; connected: boolean } = literal
      ? { address: at(host), connected: false }
      : { connected: false };
    followed.set(stream, seen);
    stream.once("lookup", (err: Error | null, address: string) => {
      if (!err) seen.address = `${at(host)} (${address})`;
    });
    stream.once("connect", () => {
      seen.connected = true;
    });
  };
  follow(client.stream);
  // MQTT.js opens the next stream right after it emits `reconnect`; the name's lookup answers later.
  client.on("reconnect", () => queueMicrotask(() => follow(client.stream)));
  return () => {
    const seen = followed.get(client.stream as object);
    if (seen === undefined) return undefined;
    if (seen.connected) return { at: "connected" };
    return seen.address === undefined
      ? { at: "resolving", host }
      : { at: "connecting", address: seen.address };
  };
}
