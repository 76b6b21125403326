/**
 * A broker killed as its process would be (RunningBroker.kill, broker/server.ts): aedes made to
 * publish nothing more, no will and no message still under way.
 */
import type { Duplex } from "node:stream";
import type { Aedes } from "aedes";

/** What kill() touches of aedes's client that its typings leave out. */
interface ClientInternals {
  will: unknown;
  _will: unknown;
}
type PublishCallback = (error?: Error) => void;
interface AedesInternals {
  clients: Record<string, ClientInternals | undefined>;
  publish(packet: unknown, client?: unknown, done?: PublishCallback): void;
}

/**
 * Makes aedes publish nothing from now on, as a dead process would: every client's will (connected,
 * still connecting, or closing) is dropped before its socket goes, and publish() itself becomes a
 * no-op for whatever is still under way ($SYS notices, a publish waiting for the store).
 */
export function silence(aedes: Aedes, connections: Iterable<Duplex>): void {
  const internals = aedes as unknown as AedesInternals;
  const clients = [
    ...Object.values(internals.clients),
    // aedes sets `client` on the stream it handles, registered or not yet.
    ...[...connections].map((c) => (c as Duplex & { client?: ClientInternals }).client),
  ];
  for (const client of clients) {
    if (client === undefined) continue;
    client.will = null;
    client._will = null;
  }
  internals.publish = (_packet, client, done) => {
    const callback = typeof client === "function" ? (client as PublishCallback) : done;
    if (callback) setImmediate(callback);
  };
}
