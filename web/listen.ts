/**
 * A web server's start: listen, or let go of what the server already holds (a failed listen leaves
 * the app, and anything following the fleet, to close) and rethrow; then where it listens, as a
 * printable origin (an IPv6 address in brackets). A host name is bound at every address it resolves
 * to, as the broker's listeners are (broker/listen.ts): Fastify binds only the first of a name other
 * than `localhost`, so `--http fleet.lan:8080` naming ::1 and 127.0.0.1 refused every browser that
 * came by 127.0.0.1. `localhost` too is looked up here, not left to Fastify: the addresses bound are
 * the ones the loopback rule was judged by (httpBind).
 */
import { type AddressInfo, createServer, isIP, type Server } from "node:net";
import type { FastifyInstance } from "fastify";
import { bindAddresses, type HostLookup, isLoopbackAddress } from "../broker/index.js";

/** Where a web server binds: the addresses a host resolves to, looked up once. */
export interface HttpBind {
  readonly addresses: readonly string[];
  /**
   * Every address is on loopback: reads need no token there. Judged by the addresses, not by the
   * name: a name (`localhost` too) that resolves to a LAN address as well is bound there too, and
   * is not loopback; one that resolves to 127.0.0.1 alone is.
   */
  readonly loopback: boolean;
}

export async function httpBind(host: string, lookup?: HostLookup): Promise<HttpBind> {
  const addresses = await bindAddresses(host, lookup, "--http");
  return { addresses, loopback: addresses.every(isLoopbackAddress) };
}

export interface Listening {
  readonly address: string;
  readonly port: number;
  /** `http://host:port`: the host name given, else the address bound (the port bound for port 0). */
  readonly origin: string;
}

export async function listenOrRelease(
  app: FastifyInstance,
  host: string,
  addresses: readonly string[],
  port: number,
  release: () => void,
): Promise<Listening> {
  const extras: Server[] = [];
  try {
    const [first = host, ...more] = addresses;
    await app.listen({ host: first, port });
    const bound = (app.server.address() as AddressInfo).port;
    app.server.once("close", () => {
      for (const extra of extras) extra.close();
    });
    for (const address of more) {
      const extra = createServer((socket) => app.server.emit("connection", socket));
      extras.push(extra);
      await new Promise<void>((resolve, reject) => {
        extra.once("error", (e: NodeJS.ErrnoException) => {
          // `localhost`'s ::1 on a host without IPv6 (Fastify, which bound `localhost` before, did
          // without it too): an address fewer, on loopback, changes nothing the rules judged.
          if (isLoopbackAddress(address) && (e.code === "EADDRNOTAVAIL" || e.code === "EAFNOSUPPORT"))
            resolve();
          else reject(e);
        });
        extra.listen({ host: address, port: bound }, () => resolve());
      });
    }
  } catch (e) {
    for (const extra of extras) extra.close();
    release();
    await app.close();
    throw e;
  }
  const addr = app.server.address() as AddressInfo;
  // A name is shown as given: it is bound at all its addresses, and the operator reaches it by it.
  const at = isIP(host) === 0 ? host : addr.address;
  const shown = at.includes(":") ? `[${at}]` : at;
  return { address: addr.address, port: addr.port, origin: `http://${shown}:${addr.port}` };
}
