/**
 * Persistence across a restart on the same data directory: a persistent session (clean: false),
 * the QoS 1 message queued for it while offline, and retained messages. In memory, none survive.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type IConnackPacket } from "mqtt";
import { afterEach, beforeEach, expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../server.js";
import { client, closeAll, halfDoneQos2, nextMessage, once } from "./helpers.js";

let dir: string;
let broker: RunningBroker | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "twinfleet-broker-"));
});
afterEach(async () => {
  await broker?.close();
  broker = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** Connects with the message listener in place before CONNACK, so queued messages are not missed. */
async function reconnect(url: string, clientId: string) {
  const messages: [string, string][] = [];
  const c = connect(url, { clientId, clean: false, reconnectPeriod: 0, protocolVersion: 4 });
  c.on("message", (topic, payload) => messages.push([topic, payload.toString()]));
  const [connack] = await once<[IConnackPacket]>(c, "connect");
  return { c, messages, sessionPresent: connack.sessionPresent };
}

/** Session, queued QoS 1 and retained state left behind by a first broker run. */
async function firstRun(dataDir: string | undefined): Promise<void> {
  broker = await startBroker({ host: "127.0.0.1", port: 0, dataDir });
  const session = await client(broker.url, { clientId: "tf-lamp-1", clean: false });
  await session.subscribeAsync("tf/state/lamp-1", { qos: 1 });
  await session.endAsync();

  const control = await client(broker.url, { clientId: "twins" });
  await control.publishAsync("tf/state/lamp-1", "S1 1 5", { qos: 1 });
  await control.publishAsync("tf/report/lamp-1", "R1 1 5 lamp-1", { qos: 1, retain: true });
  await closeAll(control);
  await broker.close();
}

it("keeps sessions, queued QoS 1 and retained messages across a restart with a data dir", async () => {
  await firstRun(dir);
  broker = await startBroker({ host: "127.0.0.1", port: 0, dataDir: dir });

  const { c, messages, sessionPresent } = await reconnect(broker.url, "tf-lamp-1");
  expect(sessionPresent).toBe(true);
  await expect.poll(() => messages).toEqual([["tf/state/lamp-1", "S1 1 5"]]);

  // The restored subscription is live, not only the queue.
  const live = nextMessage(c, "tf/state/lamp-1");
  const control = await client(broker.url, { clientId: "twins" });
  await control.publishAsync("tf/state/lamp-1", "S1 0 6", { qos: 1 });
  expect(await live).toBe("S1 0 6");

  // Retained messages, by a wildcard (the store's scan) and by an exact topic (its index).
  const retained = nextMessage(control, "tf/report/lamp-1");
  await control.subscribeAsync("tf/report/+");
  expect(await retained).toBe("R1 1 5 lamp-1");
  const exact = await client(broker.url, { clientId: "tool" });
  const retainedExact = nextMessage(exact, "tf/report/lamp-1");
  await exact.subscribeAsync("tf/report/lamp-1");
  expect(await retainedExact).toBe("R1 1 5 lamp-1");
  await closeAll(c, control, exact);
});

it("forgets all of it in memory", async () => {
  await firstRun(undefined);
  broker = await startBroker({ host: "127.0.0.1", port: 0 });
  const { c, sessionPresent } = await reconnect(broker.url, "tf-lamp-1");
  expect(sessionPresent).toBe(false);
  const granted = await c.subscribeAsync("tf/report/+");
  expect(granted[0]?.qos).toBe(0);
  // A retained message would arrive before the marker published after the SUBACK.
  const seen: string[] = [];
  c.on("message", (topic) => seen.push(topic));
  const marker = nextMessage(c, "tf/report/marker");
  await c.publishAsync("tf/report/marker", "x");
  await marker;
  expect(seen).toEqual(["tf/report/marker"]);
  await closeAll(c);
});

it("names the directory when it cannot be used", async () => {
  const file = join(dir, "file");
  await import("node:fs/promises").then((fs) => fs.writeFile(file, "x"));
  await expect(startBroker({ port: 0, dataDir: join(file, "sub") })).rejects.toThrow(
    `data directory ${join(file, "sub")}`,
  );
});

it("names a data directory under /proc at once (Node's recursive mkdir never returns there)", async () => {
  await expect(startBroker({ port: 0, dataDir: "/proc/twinfleet-no-such/data" })).rejects.toThrow(
    "data directory /proc/twinfleet-no-such/data cannot be created: ENOENT",
  );
});

it.each([
  ["in memory", false],
  ["with --data", true],
])(
  "says the session is present when it holds only a QoS 2 message not completed (%s) [MQTT-3.2.2-2]",
  async (_, durable) => {
    broker = await startBroker({ host: "127.0.0.1", port: 0, ...(durable ? { dataDir: dir } : {}) });
    expect(await halfDoneQos2(broker.port, "half-done")).toBe(true);
    // A session with nothing stored is not present.
    const { c, sessionPresent } = await reconnect(broker.url, "nothing-held");
    expect(sessionPresent).toBe(false);
    await closeAll(c);
  },
);
