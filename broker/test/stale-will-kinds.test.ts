/**
 * The line a `--data` broker logs when it publishes the previous run's wills at the end of its grace
 * (broker/stale-wills.ts, broker/will-kinds.ts): it counted every will as `published=42` for a
 * fleet of 40 nodes, beside which a twins service's presence and a fleet run's claim had wills too.
 * Now the nodes are counted apart and the other clients named, with what their topics say they are.
 */
import type { Aedes } from "aedes";
import type MemoryPersistence from "aedes-persistence/asyncPersistence.js";
import pino from "pino";
import { afterEach, beforeEach, expect, it } from "vitest";
import { publishStaleWills, type WillStore } from "../stale-wills.js";
import { OTHER_WILLS_NAMED } from "../will-kinds.js";
import { closeFrozenBroker, type FrozenBroker, openFrozenBroker, storeStaleWill } from "./frozen-broker.js";

let broker: FrozenBroker;
let aedes: Aedes;
let persistence: MemoryPersistence;
let lines: Record<string, unknown>[];
const logger = () =>
  pino({ level: "info" }, { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) });

beforeEach(async () => {
  broker = await openFrozenBroker();
  ({ aedes, persistence } = broker);
  lines = [];
});

afterEach(() => closeFrozenBroker(broker));

it("counts the nodes' wills apart from a twins service's presence and a fleet run's claim, named", async () => {
  for (const id of ["tf-n1", "tf-n2", "tf-n3"]) await storeStaleWill(persistence, id);
  await storeStaleWill(persistence, "twins-7f3a", "tf/control/twins-7f3a", "");
  await storeStaleWill(persistence, "tf-claim-0a1b2c", "tf/claim/0a1b2c", "");
  const published = await publishStaleWills(aedes, persistence as unknown as WillStore, logger());
  expect(published).toBe(5);
  expect(lines).toHaveLength(1);
  const line = lines[0] ?? {};
  expect(line.msg).toBe(
    "last wills of clients not back since the previous run published: 3 nodes' statuses and 2 other clients' wills (otherWills: 1 control server presence, 1 fleet run claim)",
  );
  expect(line).toMatchObject({ published: 5, nodes: 3, others: 2 });
  expect(line.otherWills).toEqual(
    expect.arrayContaining([
      { clientId: "twins-7f3a", topic: "tf/control/twins-7f3a", what: "control server presence" },
      { clientId: "tf-claim-0a1b2c", topic: "tf/claim/0a1b2c", what: "fleet run claim" },
    ]),
  );
});

it("names at most a few other clients and counts the rest; a fleet alone reads as its nodes", async () => {
  for (let i = 0; i < OTHER_WILLS_NAMED + 3; i++)
    await storeStaleWill(persistence, `app-${i}`, `app/${i}/gone`, "x");
  await publishStaleWills(aedes, persistence as unknown as WillStore, logger());
  expect(lines[0]).toMatchObject({ published: OTHER_WILLS_NAMED + 3, nodes: 0, otherWillsNotNamed: 3 });
  expect(lines[0]?.otherWills).toHaveLength(OTHER_WILLS_NAMED);
  expect(lines[0]?.msg).toContain(`0 nodes' statuses and ${OTHER_WILLS_NAMED + 3} other clients' wills`);
  lines = [];
  await storeStaleWill(persistence, "tf-n9");
  await publishStaleWills(aedes, persistence as unknown as WillStore, logger());
  expect(lines[0]?.msg).toBe(
    "last wills of clients not back since the previous run published: 1 node's status",
  );
  expect(lines[0]).not.toHaveProperty("otherWills");
});
