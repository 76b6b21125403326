/**
 * Aedes's storeWill (patched in patches/aedes+1.2.0.patch): a store whose delete of a client's old
 * will fails (a full disk) must not end the process. Unpatched, `delWill(…).finally(…)` left the
 * rejection unhandled: Node ends on an unhandled rejection, and a broker on a full data disk died at
 * the first reconnect of a node with a will. The connect goes on as it did (the will is stored).
 */
import { type AddressInfo, createServer } from "node:net";
import { Aedes } from "aedes";
import MemoryPersistence from "aedes-persistence/asyncPersistence.js";
import { afterEach, expect, it } from "vitest";
import { client, closeAll } from "./helpers.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

it("a failed delete of the old will is handled, and the client connects with its will", async () => {
  const persistence = new MemoryPersistence();
  const store = persistence as unknown as { delWill: (client: unknown) => Promise<unknown> };
  let deletes = 0;
  store.delWill = async () => {
    deletes++;
    throw new Error("No space left on device");
  };
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on("unhandledRejection", onUnhandled);
  const aedes = await Aedes.createBroker({ persistence: persistence as never });
  const server = createServer((socket) => aedes.handle(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(async () => {
    process.off("unhandledRejection", onUnhandled);
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const node = await client(url, {
    clientId: "node-1",
    will: { topic: "tf/status/node-1", payload: Buffer.from("T1 0"), qos: 0, retain: true },
  });
  // The rejection, unhandled, would be reported once the microtasks and this turn have run.
  await new Promise((resolve) => setImmediate(resolve));
  expect(deletes).toBeGreaterThanOrEqual(1);
  expect(node.connected).toBe(true);
  expect(unhandled).toEqual([]);
  await closeAll(node);
});
