/**
 * A run's watch client (its broker probe, a shard's watch) refused by the broker during an outage —
 * its login revoked, then put back — connects again once it is let in. MQTT.js gives up for good at
 * the first refused CONNACK unless told otherwise: the run went on telling the broker lost to its end.
 * Real sockets on port 0, the access rules reloaded under the client.
 */
import { afterEach, expect, it } from "vitest";
import { oneLoginBroker } from "../../broker/test/one-login.js";
import { when } from "../../twins/test/poll.js";
import { connectWatchClient } from "../shard-watch.js";

let cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

it("connects again once a login refused during an outage is let in again", async () => {
  const site = await oneLoginBroker("run", "pw-run");
  const { broker } = site;
  cleanup.push(() => broker.close());
  const client = await connectWatchClient(broker.url, { username: "run", password: "pw-run" });
  cleanup.push(() => client.endAsync(true));
  let connects = 0;
  client.on("connect", () => connects++);

  await site.revoke();
  await when(() => broker.figures.tally.refused["bad-login"] >= 1);
  expect(client.connected).toBe(false);
  await site.restore();
  await when(() => client.connected);
  expect(connects).toBe(1);
});
