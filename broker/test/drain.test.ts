/**
 * drainTimeout: a subscriber whose socket is never read fills its buffers and, without the timeout,
 * would hold every later delivery back (aedes delivers through one bounded queue). With it, the
 * frozen client is cut and a healthy subscriber keeps receiving.
 */
import { afterEach, expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../server.js";
import { client, closeAll, connectPacket, nextMessage, once, packet, rawSocket } from "./helpers.js";

const DRAIN_TIMEOUT_MS = 300;
let broker: RunningBroker | undefined;
afterEach(() => broker?.close());

it("cuts a frozen subscriber and keeps delivering to a healthy one", async () => {
  broker = await startBroker({ host: "127.0.0.1", port: 0, drainTimeoutMs: DRAIN_TIMEOUT_MS });
  const b = broker;

  // A subscriber that reads its SUBACK and then never reads again.
  const frozen = await rawSocket(b.port);
  frozen.on("error", () => {});
  frozen.write(connectPacket("frozen"));
  frozen.write(packet({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "flood/#", qos: 0 }] }));
  // CONNACK (4 bytes) and SUBACK (5 bytes); they may come in one chunk or two.
  let seen = 0;
  while (seen < 9) seen += (await once<[Buffer]>(frozen, "data"))[0].length;
  frozen.pause();

  const healthy = await client(b.url, { clientId: "healthy" });
  await healthy.subscribeAsync("flood/marker");
  const publisher = await client(b.url, { clientId: "publisher" });

  const frozenCut = once(b.aedes, "clientError", 10_000, (c: { id: string }, err: Error) => {
    return c.id === "frozen" && err.message === "drain timeout";
  });
  // Far more than loopback socket buffers hold (a few MiB), so the frozen socket must fill up.
  const chunk = Buffer.alloc(16 * 1024, 0x46);
  for (let i = 0; i < 2500; i++) publisher.publish("flood/data", chunk, { qos: 0 });
  const marker = nextMessage(healthy, "flood/marker", 10_000);
  publisher.publish("flood/marker", "done", { qos: 0 });

  const started = Date.now();
  const [got] = await Promise.all([marker, frozenCut]);
  expect(got).toBe("done");
  // The frozen socket cannot see its own close (it does not read); the broker has let it go.
  await expect.poll(() => b.aedes.connectedClients).toBe(2);
  // The bound: the drain timeout plus generous slack for moving 40 MiB through loopback.
  expect(Date.now() - started).toBeLessThan(DRAIN_TIMEOUT_MS + 8000);
  frozen.destroy();
  await closeAll(healthy, publisher);
});
