/**
 * A node the broker's retained status shows online that did not answer the service's query: a
 * broker that lost its last will (Mosquitto restarted on its persistence, a store wiped) keeps its
 * `T1 1` for ever, and the service showed a dead node online for ever. Now it goes offline
 * ANSWER_GRACE_MS after the query, with one WARN naming it; a node that answered stays online, and
 * a look the broker is lost before is dropped. A real broker on port 0; the service's clock is a
 * FakeScheduler stepped by the test.
 */
import { EventEmitter } from "node:events";
import { pino } from "pino";
import { expect, it } from "vitest";
import { startBroker } from "../../broker/index.js";
import { FakeScheduler } from "../../node/scheduler.js";
import { NodeId } from "../../protocol/index.js";
import type { RegistryEffect } from "../effects.js";
import { startTwins, type Twins } from "../service.js";
import { memoryStore, type TwinsStore } from "../store.js";
import { newRecord, offlineUnheard, setPresence, type TwinRecord } from "../twin-record.js";
import type { TwinsEvents } from "../types.js";
import { ANSWER_GRACE_MS, UnansweredCheck } from "../unanswered.js";
import { rawClient, startNode } from "./helpers.js";
import { cleanupAfterEach, loggedLines } from "./own-broker.js";
import { when } from "./poll.js";

const cleanup = cleanupAfterEach();

interface Line {
  readonly level: number;
  readonly msg: string;
  readonly nodes?: number;
}

/** A broker holding a live node's status and the `T1 1` of a node long dead, and a service on it. */
async function fleetWithAGhost(store?: TwinsStore) {
  const broker = await startBroker({ host: "127.0.0.1", port: 0, logger: pino({ level: "silent" }) });
  cleanup.push(() => broker.close());
  const node = await startNode(broker.url, "n-1");
  cleanup.push(() => node.stop());
  const writer = await rawClient(broker.url);
  // What a broker restarted on its store keeps of a node that died meanwhile: its status, not its will.
  await writer.publishAsync("tf/status/ghost", "T1 1", { qos: 1, retain: true });
  await writer.endAsync();
  const sched = new FakeScheduler(1_000_000);
  const { logger, lines } = loggedLines<Line>("info");
  // No probe: the stepped clock would tell the broker silent (a test of its own, silent-broker.test.ts).
  const twins: Twins = await startTwins({
    url: broker.url,
    scheduler: sched,
    logger,
    probe: false,
    ...(store ? { store } : {}),
  });
  cleanup.push(() => twins.close());
  await when(() => twins.get("n-1")?.kind === "sim" && twins.get("ghost")?.presence === "online");
  return { broker, sched, lines, twins };
}

it("takes offline a node shown online that does not answer the query, names it once, and keeps the one that answered", async () => {
  const { broker, sched, lines, twins } = await fleetWithAGhost();
  // The retained `T1 1` is the broker's copy: the node was not heard.
  expect(twins.get("ghost")?.lastSeen).toBeUndefined();
  sched.advance(ANSWER_GRACE_MS - 1);
  expect(twins.get("ghost")?.presence).toBe("online");
  const offline: string[] = [];
  twins.on("twin-offline", (t) => offline.push(t.id));
  sched.advance(1);
  expect(offline).toEqual(["ghost"]);
  expect(twins.get("ghost")?.presence).toBe("offline");
  expect(twins.get("n-1")?.presence).toBe("online");
  const warned = lines.filter((l) => l.level === 40);
  expect(warned).toHaveLength(1);
  expect(warned[0]?.msg).toBe(
    "twins: 1 node shown online did not answer the query within 23.5 s (ghost): the broker kept its status without its last will (restarted on its store, or its store wiped, while it was gone?); shown offline until heard again",
  );
  // Heard again: online.
  const back = await rawClient(broker.url);
  cleanup.push(() => back.endAsync());
  await back.publishAsync("tf/status/ghost", "T1 1", { qos: 1, retain: true });
  await when(() => twins.get("ghost")?.presence === "online");
  sched.advance(ANSWER_GRACE_MS);
  expect(twins.get("ghost")?.presence).toBe("online"); // no second look without a second query
});

it("is not fooled by a stored last-seen date still to come: the clock ran an hour ahead and was put back", async () => {
  // The service's clock reads 1,000,000 on the date 1,000,000: the store's date is an hour later.
  const store = memoryStore({
    nodes: { ghost: { sources: [], configVersion: 0, lastSeen: 1_000_000 + 3_600_000 } },
  });
  const { sched, lines, twins } = await fleetWithAGhost(store);
  expect(twins.get("ghost")?.lastSeen).toBeUndefined();
  expect(lines.filter((l) => l.level === 40).map((l) => [l.msg, l.nodes])).toEqual([
    [
      "twins: the store dates the last message of some nodes later than the host's clock (put back since, or wrong now?): their last seen is left out until they are heard",
      1,
    ],
  ]);
  sched.advance(ANSWER_GRACE_MS);
  expect(twins.get("ghost")?.presence).toBe("offline");
});

it("asks again at every query, and drops the look when the broker is lost before it", async () => {
  const { broker, sched, twins } = await fleetWithAGhost();
  sched.advance(ANSWER_GRACE_MS / 2);
  await twins.query(); // the look starts again from this query
  sched.advance(ANSWER_GRACE_MS / 2);
  expect(twins.get("ghost")?.presence).toBe("online");
  let lost = false;
  twins.on("broker", (up) => {
    if (!up) lost = true;
  });
  await broker.close();
  await when(() => lost);
  sched.advance(ANSWER_GRACE_MS);
  // Its own view lost says nothing of the nodes.
  expect(twins.get("ghost")?.presence).toBe("online");
});

it("says the nodes it takes offline were shown unheard, not online, when a broker restart left them so", () => {
  const sched = new FakeScheduler(1_000_000);
  const { logger, lines } = loggedLines<Line>("info");
  const twins = ["a", "b", "c"].map((id) => newRecord(NodeId(id)));
  for (const t of twins) setPresence(t, "online");
  // Not heard since the broker restarted: a and b (twins/node-presence.ts).
  setPresence(twins[0] as TwinRecord, "unheard");
  setPresence(twins[1] as TwinRecord, "unheard");
  const registry = { unanswered: (since: number) => offlineUnheard(twins, since) };
  const applied: RegistryEffect[] = [];
  const check = new UnansweredCheck(
    new EventEmitter<TwinsEvents>(),
    { scheduler: sched, logger, url: "mqtt://b" },
    registry,
    (e) => applied.push(...e),
  );
  check.queried();
  sched.advance(ANSWER_GRACE_MS);
  expect(applied).toEqual([
    { type: "offline", node: "a", unheard: true },
    { type: "offline", node: "b", unheard: true },
    { type: "offline", node: "c" },
  ]);
  expect(lines.map((l) => l.msg)).toEqual([
    "twins: 3 nodes shown online or unheard (2 not heard since the broker restarted) did not answer the query within 23.5 s (a, b, c): the broker kept their status without their last will (restarted on its store, or its store wiped, while they were gone?); shown offline until heard again",
  ]);
  // Every one of them unheard: the restart is known, and none was shown online.
  const only = newRecord(NodeId("d"));
  setPresence(only, "unheard");
  twins.splice(0, 3, only);
  check.queried();
  sched.advance(ANSWER_GRACE_MS);
  expect(lines.at(-1)?.msg).toBe(
    "twins: 1 node shown unheard (not heard since the broker restarted) did not answer the query within 23.5 s (d): the restarted broker kept its status without its last will; shown offline until heard again",
  );
});
