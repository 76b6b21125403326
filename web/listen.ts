/**
 * A web server's start: listen, or let go of what the server already holds (a failed listen leaves
 * the app, and anything following the fleet, to close) and rethrow; then where it listens, as a
 * printable origin (an IPv6 address in brackets).
 */
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";

export interface Listening {
  readonly address: string;
  readonly port: number;
  /** `http://host:port`. */
  readonly origin: string;
}

export async function listenOrRelease(
  app: FastifyInstance,
  host: string,
  port: number,
  release: () => void,
): Promise<Listening> {
  try {
    await app.listen({ host, port });
  } catch (e) {
    release();
    await app.close();
    throw e;
  }
  const addr = app.server.address() as AddressInfo;
  const shown = addr.address.includes(":") ? `[${addr.address}]` : addr.address;
  return { address: addr.address, port: addr.port, origin: `http://${shown}:${addr.port}` };
}
