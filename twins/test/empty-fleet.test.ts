/**
 * A service pointed at the right broker under another prefix than the fleet's, or at a broker with no
 * fleet at all, used to show 0 nodes for ever and say nothing. Now, EMPTY_FLEET_AFTER_MS after it
 * connected with no node seen, it looks at the statuses the broker holds under other prefixes and
 * warns once, naming them, shows a fault until a node is heard, and says when one is. A real broker on
 * port 0; the service's clock is a FakeScheduler stepped by the test.
 */
import type { MqttClient } from "mqtt";
import { pino } from "pino";
import { expect, it } from "vitest";
import { startBroker } from "../../broker/index.js";
import { FakeScheduler } from "../../node/scheduler.js";
import { EMPTY_FLEET_AFTER_MS } from "../empty-fleet.js";
import { LOOK_MS } from "../prefix-look.js";
import { startTwins } from "../service.js";
import { rawClient, startNode } from "./helpers.js";
import { cleanupAfterEach, loggedLines } from "./own-broker.js";
import { when } from "./poll.js";

const cleanup = cleanupAfterEach();

interface Line {
  readonly level: number;
  readonly msg: string;
}

/** A broker whose retained statuses `statuses` (topic → payload) hold, and a service on `prefix`. */
async function serviceOn(prefix: string, statuses: Record<string, string>, warnEmptyFleet = true) {
  const broker = await startBroker({ host: "127.0.0.1", port: 0, logger: pino({ level: "silent" }) });
  cleanup.push(() => broker.close());
  const writer: MqttClient = await rawClient(broker.url);
  for (const [topic, payload] of Object.entries(statuses))
    await writer.publishAsync(topic, payload, { qos: 1, retain: true });
  await writer.endAsync();
  const sched = new FakeScheduler(1_000_000);
  const { logger, lines } = loggedLines<Line>("debug");
  // No probe: the stepped clock would tell the broker silent.
  const twins = await startTwins({
    url: broker.url,
    prefix,
    scheduler: sched,
    logger,
    probe: false,
    warnEmptyFleet,
  });
  cleanup.push(() => twins.close());
  const said = (part: string) => lines.filter((l) => l.msg.includes(part));
  const warned = () => lines.filter((l) => l.level === 40).map((l) => l.msg);
  return { broker, sched, twins, said, warned };
}

it("names the prefixes the broker holds nodes under when none is seen on its own, once, and says when one comes", async () => {
  const { broker, sched, twins, said, warned } = await serviceOn("lab", {
    "tf/status/n-0000": "T1 1",
    "old/status/n-0042": "T1 0",
  });
  sched.advance(EMPTY_FLEET_AFTER_MS - 1);
  expect(said("looking for nodes")).toHaveLength(0);
  sched.advance(1);
  // The look's retained statuses land, one per prefix, before its time is up.
  await when(() => said("node statuses seen under another prefix").length === 2);
  sched.advance(LOOK_MS);
  await when(() => warned().length > 0);
  expect(warned()).toEqual([
    `twins: no node seen on prefix lab at ${broker.url} 24.5 s after connecting: the broker holds nodes under other prefixes: old (1 node, 0 online), tf (1 node, 1 online); if that is the fleet, start the service with --prefix old; nodes are listed as they come`,
  ]);
  expect(twins.fleetUnseen).toEqual({
    since: 1_000_000 + EMPTY_FLEET_AFTER_MS + LOOK_MS,
    what: "no node on prefix lab (nodes under old, tf)",
  });
  // The other prefixes' statuses are the look's: no bad input, no twin.
  expect(twins.badInput().total).toBe(0);
  expect(twins.list()).toEqual([]);
  // Told once: a longer wait says nothing more.
  sched.advance(10 * EMPTY_FLEET_AFTER_MS);
  expect(warned()).toHaveLength(1);
  const node = await startNode(broker.url, "lamp-1", { prefix: "lab" });
  cleanup.push(() => node.stop());
  await when(() => said("first node seen").length === 1);
  expect(said("first node seen")[0]?.msg).toMatch(
    /^twins: first node seen on prefix lab: lamp-1, \d+\.\d s after connecting$/,
  );
  expect(twins.fleetUnseen).toBeUndefined();
});

it("asks whether it is the fleet's broker when the broker holds no node under any prefix", async () => {
  const { broker, sched, twins, said, warned } = await serviceOn("tf", {});
  sched.advance(EMPTY_FLEET_AFTER_MS);
  await when(() => said("looking for nodes under other prefixes").length === 1);
  sched.advance(LOOK_MS);
  await when(() => warned().length > 0);
  expect(warned()).toEqual([
    `twins: no node seen on prefix tf at ${broker.url} 24.5 s after connecting, and none under any other prefix there: is this the fleet's broker (--broker)? Nodes are listed as they come`,
  ]);
  expect(twins.fleetUnseen?.what).toBe("no node on prefix tf, nor on this broker");
});

it("says nothing of a fleet it sees, nor without warnEmptyFleet", async () => {
  const seen = await serviceOn("tf", { "tf/status/n-0000": "T1 0" });
  await when(() => seen.twins.get("n-0000") !== undefined);
  const quiet = await serviceOn("lab", { "tf/status/n-0000": "T1 1" }, false);
  for (const s of [seen, quiet]) s.sched.advance(EMPTY_FLEET_AFTER_MS + LOOK_MS);
  expect(seen.said("looking for nodes")).toEqual([]);
  expect(quiet.said("looking for nodes")).toEqual([]);
  expect([...seen.warned(), ...quiet.warned()]).toEqual([]);
  expect(quiet.twins.fleetUnseen).toBeUndefined();
});
