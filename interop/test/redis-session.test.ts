// CONNACK's Session Present from a `twinfleet broker --redis` for a persistent session that holds
// only a QoS 2 message it sent and did not complete (no subscription): the session is there
// [MQTT-3.2.2-2], as on the memory and LevelDB stores (broker/test/persistence.test.ts). Before, the
// Redis store could not tell, and aedes said 0.
import mqtt, { type IConnackPacket } from "mqtt";
import { afterAll, beforeAll, expect, it } from "vitest";
import { halfDoneQos2, once } from "../../broker/test/helpers.js";
import { type RedisCluster, START_HOOK_MS, startRedisCluster } from "../redis-cluster.js";

let cluster: RedisCluster;
beforeAll(async () => {
  cluster = await startRedisCluster({ members: 1 });
}, START_HOOK_MS);
afterAll(async () => {
  await cluster?.close();
});

it("says a session holding only a QoS 2 message not completed is present, and one holding nothing is not", async () => {
  const url = new URL(cluster.urls[0] as string);
  expect(await halfDoneQos2(Number(url.port), "half*done")).toBe(true);
  const c = mqtt.connect(url.href, { clientId: "nothing-held", clean: false, reconnectPeriod: 0 });
  const [connack] = await once<[IConnackPacket]>(c, "connect");
  await c.endAsync();
  expect(connack.sessionPresent).toBe(false);
});
