/**
 * Where the broker's listeners bind (`--host`) and how each opens its port. An address is bound as
 * it is. A host name is looked up once, before anything opens, and every address it names is bound
 * (as mosquitto does): `localhost` names both ::1 and 127.0.0.1 on most systems, and a listener bound
 * to the first alone (::1) refused every client that came by the other — `mqtt://127.0.0.1:1883`, a
 * board given the address — while the line said `listening on localhost:1883`. A name that does not
 * resolve is one line naming --host and the name.
 */
import { lookup } from "node:dns/promises";
import { type AddressInfo, BlockList, createServer, isIP, type Server } from "node:net";
import type { Logger } from "pino";

/** Every address a host name names (getaddrinfo's order). */
export type HostLookup = (host: string) => Promise<readonly string[]>;

/** The system's lookup (getaddrinfo: /etc/hosts, then DNS), every address. */
export const lookupAll: HostLookup = async (host) =>
  (await lookup(host, { all: true })).map((a) => a.address);

const LOOKUP_ERRORS: Readonly<Record<string, string>> = {
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed (no answer from the resolver; try again, or give an address)",
  ENODATA: "the name has no address",
};

/** Why a lookup failed, in words and its code: `host not found (ENOTFOUND)`. */
export function lookupFailure(e: unknown): string {
  const code = (e as { code?: unknown } | undefined)?.code;
  return typeof code === "string" ? `${LOOKUP_ERRORS[code] ?? "lookup failed"} (${code})` : String(e);
}

/**
 * The addresses to bind for `host`: itself for an address, else every address its name resolves to.
 * `flag` names where the host came from in an error.
 */
export async function bindAddresses(
  host: string,
  resolve: HostLookup = lookupAll,
  flag = "--host",
): Promise<string[]> {
  if (isIP(host) !== 0) return [host];
  let found: readonly string[];
  try {
    found = await resolve(host);
  } catch (e) {
    throw new Error(`${flag}: cannot listen on ${host}: ${lookupFailure(e)}`);
  }
  const addresses = [...new Set(found)];
  if (addresses.length === 0) throw new Error(`${flag}: cannot listen on ${host}: the name has no address`);
  return addresses;
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6");

/**
 * An address on loopback: 127.0.0.0/8, ::1 (any spelling), or 127.0.0.0/8 mapped into IPv6
 * (`::ffff:127.0.0.1`). Anything else, a name or a wildcard (`0.0.0.0`, `::`) included, is not.
 */
export function isLoopbackAddress(address: string): boolean {
  const family = isIP(address);
  return family !== 0 && LOOPBACK.check(address, family === 6 ? "ipv6" : "ipv4");
}

/**
 * The listen backlog: connections the kernel completes before the broker accepts them. A fleet boots
 * together; at Node's default (511) a busy broker's queue overflows, the kernel drops the SYNs and
 * each client retries after 1, 3, 7, 15, 31 s (a node registered 31 s late). The kernel caps it at
 * net.core.somaxconn (4096 on current Linux).
 */
const LISTEN_BACKLOG = 4096;

/**
 * Opens `server` on `port` at the first address, and the same port at each other one, whose
 * connections are handed to `server` as its own (a TLS or HTTP server takes them the same way).
 * `track` gets each extra listener, to be closed with the broker. Resolves with the port bound.
 */
export async function listenAt(
  server: Server,
  port: number,
  addresses: readonly string[],
  what: string,
  logger: Logger,
  track: (extra: Server) => void,
): Promise<number> {
  const [first, ...more] = addresses;
  const bound = await listenOne(server, port, first ?? "0.0.0.0", what, logger);
  for (const address of more) {
    const extra = createServer((socket) => server.emit("connection", socket));
    track(extra);
    await listenOne(extra, bound, address, what, logger);
  }
  return bound;
}

function listenOne(
  server: Server,
  port: number,
  host: string,
  what: string,
  logger: Logger,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const why =
        err.code === "EADDRINUSE"
          ? "is in use"
          : err.code === "EACCES"
            ? "needs more privileges"
            : err.code === "EADDRNOTAVAIL"
              ? "is not an address of this machine"
              : `cannot be opened (${err.message})`;
      reject(new Error(`port ${port} on ${host} ${why} (${what} listener)`));
    };
    server.once("error", onError);
    server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
      server.off("error", onError);
      server.on("error", (err) => logger.error({ err, what }, "listener error"));
      resolve((server.address() as AddressInfo).port);
    });
  });
}
