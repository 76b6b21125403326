/**
 * A TCP proxy for the tests of a cut path: `cut()` closes every link through it, and new links are
 * then closed at once until let through again — those whose first bytes (the CONNECT) name a twins
 * service's client id (`-twins-`) and the rest each on their own, so a test can bring a service back
 * after the nodes, or the nodes after it.
 */
import { type AddressInfo, connect, createServer, type Socket } from "node:net";

export async function cuttableProxy(port: number) {
  const open = new Set<Socket>();
  const blocked = { twins: false, others: false };
  const server = createServer((client) => {
    client.on("error", () => {});
    client.once("data", (first: Buffer) => {
      if (first.includes("-twins-") ? blocked.twins : blocked.others) {
        client.destroy();
        return;
      }
      const upstream = connect(port, "127.0.0.1");
      upstream.on("error", () => {});
      upstream.write(first);
      for (const s of [client, upstream]) {
        open.add(s);
        s.on("close", () => open.delete(s));
      }
      client.pipe(upstream);
      upstream.pipe(client);
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cut: () => {
      blocked.twins = true;
      blocked.others = true;
      for (const s of open) s.destroy();
    },
    /** Lets new links through again: the twins services', the others', or all. */
    heal: (who: "twins" | "others" | "all" = "all") => {
      if (who !== "others") blocked.twins = false;
      if (who !== "twins") blocked.others = false;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
