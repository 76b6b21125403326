/**
 * A run's watch client (its broker probe, a shard's watch) refused by the broker during an outage —
 * its login revoked, then put back — connects again once it is let in. MQTT.js gives up for good at
 * the first refused CONNACK unless told otherwise: the run went on telling the broker lost to its end.
 * Real sockets on port 0, the access rules reloaded under the client.
 */
import { afterEach, expect, it } from "vitest";
import { oneLoginBroker } from "../../broker/test/one-login.js";
import { when } from "../../twins/test/poll.js";
import { connectWatchClient, WATCH_RECONNECT_MS } from "../shard-watch.js";

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
  // Refused, it backs off from 1 s as the twins service does, not from its short period.
  await when(() => (client.options.reconnectPeriod ?? 0) >= 2000);
  await site.restore();
  await when(() => client.connected);
  expect(connects).toBe(1);
  expect(client.options.reconnectPeriod).toBe(WATCH_RECONNECT_MS);
});

it("tries again often while its broker is away: it times the outage's end", async () => {
  // At 1 s, a broker started again was told back 0.4-1.2 s after it listened.
  expect(WATCH_RECONNECT_MS).toBeLessThanOrEqual(250);
  const site = await oneLoginBroker("run", "pw-run");
  cleanup.push(() => site.broker.close());
  const client = await connectWatchClient(site.broker.url, { username: "run", password: "pw-run" });
  cleanup.push(() => client.endAsync(true));
  expect(client.options.reconnectPeriod).toBe(WATCH_RECONNECT_MS);
});
