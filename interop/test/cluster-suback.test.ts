// A QoS 1 subscription the NATS cluster cannot create is refused with SUBACK 0x80 on a connection
// that stays open. PubSubClient never reads a SUBACK's return code, so a node refused this way goes
// on without the subscription: docs/cluster.md ("Where 10,000 nodes on one host are lost") shows it
// happening to whole shards when JetStream falls 4 s behind. Here JetStream is made unable to answer
// at all — two of the three members killed, no majority — and the refusal is checked on the member
// left, whose connection then still carries the client's next publish.
import type { MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rawClient } from "../../twins/test/helpers.js";
import { type NatsCluster, startCluster } from "../cluster.js";

let cluster: NatsCluster;
let client: MqttClient | undefined;
let listener: MqttClient | undefined;
beforeAll(async () => {
  cluster = await startCluster({ members: 3 });
});
afterAll(async () => {
  await client?.endAsync(true);
  await listener?.endAsync(true);
  await cluster?.close();
});

describe("a QoS 1 subscription JetStream cannot create", () => {
  it("is refused with SUBACK 0x80 and the connection stays open", async () => {
    client = await rawClient(cluster.urls[0] as string);
    // A QoS 0 subscriber on the same member, made while JetStream can still store its session.
    listener = await rawClient(cluster.urls[0] as string);
    await listener.subscribeAsync("tf/query", { qos: 0 });
    await cluster.kill(1);
    await cluster.kill(2);
    let closed = false;
    client.on("close", () => {
      closed = true;
    });
    const started = performance.now();
    // mqtt.js rejects a SUBSCRIBE with a refused filter and carries the SUBACK on the error.
    // The filter alone: with a granted one beside it the member would also store the session,
    // which fails without a majority too, and it then closes the connection instead.
    const refused = await client.subscribeAsync({ "tf/config/sb-1": { qos: 1 } }).then(
      () => undefined,
      (err: unknown) => err as { packet?: { granted?: number[] } },
    );
    const tookMs = performance.now() - started;
    console.log(`SUBACK after ${tookMs.toFixed(0)} ms: ${JSON.stringify(refused?.packet?.granted)}`);
    expect(refused?.packet?.granted).toEqual([128]);
    // Still connected: what it publishes next is delivered.
    const echo = new Promise<string>((resolve) =>
      listener?.once("message", (_t, p) => resolve(p.toString())),
    );
    await client.publishAsync("tf/query", "Q1", { qos: 0 });
    expect(await echo).toBe("Q1");
    expect(closed).toBe(false);
  });
});
