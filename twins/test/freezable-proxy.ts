/**
 * A TCP proxy for the tests of a frozen broker: it passes bytes both ways until frozen, then holds
 * them (the sockets stay open, as with a broker process stopped by SIGSTOP) and passes them on when
 * thawed. Counts the chunks it passed downward (broker to client), for a test to wait on real I/O,
 * and tells when it passed the last.
 */
import { type AddressInfo, connect, createServer, type Server, type Socket } from "node:net";

/** A TCP proxy to `port` that can stop passing bytes either way (holding them) and pass them on again. */
export async function freezableProxy(port: number) {
  const held: [Socket, Buffer][] = [];
  let frozen = false;
  let down = 0;
  let lastDownAt = Number.NaN;
  const pass = (to: Socket, chunk: Buffer, downward: boolean) => {
    if (frozen) held.push([to, chunk]);
    else {
      to.write(chunk);
      if (downward) {
        down += 1;
        lastDownAt = performance.now();
      }
    }
  };
  const server: Server = createServer((client) => {
    const upstream = connect(port, "127.0.0.1");
    client.on("data", (c: Buffer) => pass(upstream, c, false));
    upstream.on("data", (c: Buffer) => pass(client, c, true));
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    client.on("error", () => {});
    upstream.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    downChunks: () => down,
    /** When the last chunk was passed downward (`performance.now()`). */
    lastDownAt: () => lastDownAt,
    freeze: () => {
      frozen = true;
    },
    thaw: () => {
      frozen = false;
      for (const [to, chunk] of held.splice(0)) to.write(chunk);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
