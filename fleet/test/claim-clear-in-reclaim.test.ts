/**
 * A clear of the run's claim that comes while the run claims its ids again after an earlier clear
 * (fleet/claim-hold.ts): the broker took it after the run's publish, and the run read it before that
 * publish's acknowledgement. It was ignored as part of the claim again: the claim stayed cleared on
 * the broker for the rest of the run, the run saying it was held again. It is now seen once the claim
 * again is done, and claimed again in turn. The claim's waits are on a fake clock, its I/O and the
 * broker real.
 */
import type mqtt from "mqtt";
import { afterEach, expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../../broker/server.js";
import { client } from "../../broker/test/helpers.js";
import { FakeScheduler } from "../../node/scheduler.js";
import { Prefix } from "../../protocol/index.js";
import { fleetIds } from "../../sim/topology.js";
import { claimFleet, claimTopic, type FleetClaim } from "../fleet-claim.js";
import { claimsHeld, drive } from "./claim-drive.js";
import { type LateAcks, lateAcks } from "./late-acks.js";

const prefix = Prefix("tf");
const ids = fleetIds(4);
const mine = claimTopic(prefix, "mine");
const brokers: RunningBroker[] = [];
const proxies: LateAcks[] = [];
const clients: mqtt.MqttClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) await c.endAsync(true);
  for (const p of proxies.splice(0)) await p.close();
  for (const b of brokers.splice(0)) await b.close();
});

it("claims its ids again after a clear that came while it claimed them again", async () => {
  const broker = await startBroker({ host: "127.0.0.1", port: 0 });
  brokers.push(broker);
  const proxy = await lateAcks(broker.url);
  proxies.push(proxy);
  const sched = new FakeScheduler(0);
  const lines: string[] = [];
  let claim: FleetClaim | undefined;
  const took = claimFleet(
    { url: proxy.url, prefix, ids, keepaliveS: 60, waitMs: 1_000, token: "mine" },
    sched,
    (l) => lines.push(l),
  ).then((c) => {
    claim = c;
  });
  await drive(sched, () => claim !== undefined, "the claim taken");
  await took;
  const c = claim as FleetClaim;
  // A tool clears the claim, and clears it again as soon as the run has published it again.
  const tool = await client(broker.url);
  clients.push(tool);
  let again = 0;
  tool.on("message", (topic, payload, packet) => {
    if (topic === mine && payload.length > 0 && !packet.retain && ++again === 1)
      tool.publish(mine, "", { qos: 1, retain: true });
  });
  await tool.subscribeAsync(mine, { qos: 1 });
  proxy.arm();
  await tool.publishAsync(mine, "", { qos: 1, retain: true });
  await drive(sched, () => again >= 2 && c.losses().at(-1)?.heldAgainMs !== undefined, "held again twice");
  // Before: one loss, held again by the run's account, and no claim on the broker.
  expect(lines.filter((l) => l.includes("was cleared on the broker"))).toHaveLength(2);
  expect(c.losses()).toEqual([
    { atMs: expect.any(Number) as number, why: "cleared", heldAgainMs: expect.any(Number) as number },
    { atMs: expect.any(Number) as number, why: "cleared", heldAgainMs: expect.any(Number) as number },
  ]);
  expect(Object.keys(await claimsHeld(broker.url, prefix))).toEqual([mine]);
  await c.close();
}, 120_000);
