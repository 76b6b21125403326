/**
 * What the twins tests that start their own services and brokers share: the cleanups run after each
 * test, the lines a service's logger writes, and a plain aedes broker on a port of its own whose
 * first connections can be held unanswered and whose port can be closed under the service.
 */
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { Aedes, type AedesOptions } from "aedes";
import { type Logger, pino } from "pino";
import { afterEach } from "vitest";

export type Cleanup = () => Promise<unknown>;

/**
 * The cleanups of each test of the file, run after it, the last pushed first: `push` a service
 * after the broker it stands on, `unshift` what must go last (a broker, after the services' goodbyes).
 */
export function cleanupAfterEach(): Cleanup[] {
  const cleanup: Cleanup[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });
  return cleanup;
}

/** A logger at `level` and the lines it wrote, parsed. */
export function loggedLines<L = { readonly level: number; readonly msg: string }>(
  level: "debug" | "info" | "warn",
): { logger: Logger; lines: L[] } {
  const lines: L[] = [];
  const logger = pino({ level }, { write: (s: string) => void lines.push(JSON.parse(s) as L) });
  return { logger, lines };
}

export interface OwnBroker {
  readonly port: number;
  readonly url: string;
  readonly aedes: Aedes;
  /** How many connections it holds unanswered. */
  heldNow(): number;
  /** Closes its port and drops every connection. */
  kill(): Promise<void>;
}

/**
 * An aedes broker with `options` on 127.0.0.1:`port` (0: any), its first `held` connections left
 * unanswered (a broker, or a service, that stopped before it read them); killed after the test,
 * after everything else.
 */
export async function brokerOn(
  cleanup: Cleanup[],
  port = 0,
  { options = {}, held = 0 }: { options?: AedesOptions; held?: number } = {},
): Promise<OwnBroker> {
  const aedes = await Aedes.createBroker(options);
  const sockets = new Set<Socket>();
  let heldNow = 0;
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    if (heldNow < held) heldNow += 1;
    else aedes.handle(socket);
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  let killed: Promise<void> | undefined;
  const kill = () => {
    killed ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
    })();
    return killed;
  };
  cleanup.unshift(kill);
  const bound = (server.address() as AddressInfo).port;
  return { port: bound, url: `mqtt://127.0.0.1:${bound}`, aedes, heldNow: () => heldNow, kill };
}
