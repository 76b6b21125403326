/**
 * A large fleet's claim on its ids (fleet/fleet-claim.ts, fleet/claim-ids.ts). Its ids one by one made
 * a 150 KB packet for 15,000 nodes (100 KB for a shard of 10,000): `twinfleet broker` cut the claim's
 * connection at its 64 KiB packet limit, MQTT.js never settled the publish, and the run waited for ever
 * before its first line, deaf to SIGTERM. Now a fleet's numbered ids go as spans, a claim whose
 * connection the broker closes is refused saying so, and a stop ends each step of the claim.
 */
import { once } from "node:events";
import net from "node:net";
import { pino } from "pino";
import { afterEach, expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../../broker/index.js";
import { RealScheduler } from "../../node/scheduler.js";
import { NodeId, Prefix } from "../../protocol/index.js";
import { fleetIds } from "../../sim/topology.js";
import { claimedOf, encodeClaimIds } from "../claim-ids.js";
import { claimFleet } from "../fleet-claim.js";
import { FleetIdsInUseError, FleetStartStoppedError } from "../ids-in-use.js";

const logger = pino({ level: "silent" });
const prefix = Prefix("tf");
let broker: RunningBroker | undefined;
const servers: net.Server[] = [];
const held: net.Socket[] = [];

afterEach(async () => {
  await broker?.close();
  broker = undefined;
  for (const s of held.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

it("writes a fleet's numbered ids as spans, and reads back only the ids wanted", () => {
  const ids = fleetIds(15_000);
  const enc = encodeClaimIds(ids);
  expect(enc).toEqual({ ids: [], spans: [["n-00000", "n-14999"]] });
  const odd = [NodeId("kitchen"), ...fleetIds(3), NodeId("n-0009")];
  expect(encodeClaimIds(odd)).toEqual({ ids: ["kitchen", "n-0009"], spans: [["n-0000", "n-0002"]] });
  const claim = Buffer.from(JSON.stringify(encodeClaimIds(ids.slice(5000, 10_000))));
  expect(
    claimedOf(claim, [NodeId("n-04999"), NodeId("n-05000"), NodeId("n-09999"), NodeId("n-10000")]),
  ).toEqual(["n-05000", "n-09999"]);
  // A shard's ids, every second one of the fleet's: one span with its step.
  const shard = ids.filter((_, i) => i % 2 === 1);
  expect(encodeClaimIds(shard)).toEqual({ ids: [], spans: [["n-00001", "n-14999", 2]] });
  const shardClaim = Buffer.from(JSON.stringify(encodeClaimIds(shard)));
  expect(
    claimedOf(shardClaim, [NodeId("n-00000"), NodeId("n-00001"), NodeId("n-14998"), NodeId("n-14999")]),
  ).toEqual(["n-00001", "n-14999"]);
  // Another width is another id (n-5000 is not n-05000); claims written one by one are read as before.
  expect(claimedOf(claim, [NodeId("n-5000")])).toEqual([]);
  expect(claimedOf(Buffer.from(JSON.stringify({ ids: ["n-0001"] })), fleetIds(4))).toEqual(["n-0001"]);
  expect(claimedOf(Buffer.from("not json"), fleetIds(4))).toEqual([]);
});

// On a loaded 2-core host two claims take seconds; the limit only ends a hang.
it("claims 15,000 ids on a broker with the 64 KiB packet limit, and a shard of them is seen as claimed", async () => {
  broker = await startBroker({ host: "127.0.0.1", port: 0, logger });
  const url = broker.url;
  const ids = fleetIds(15_000);
  const sched = new RealScheduler();
  const claim = await claimFleet({ url, prefix, ids, keepaliveS: 5, waitMs: 300 }, sched, () => {});
  const shard = claimFleet(
    { url, prefix, ids: ids.slice(7500), keepaliveS: 5, waitMs: 300 },
    sched,
    () => {},
  ).catch((e: unknown) => e);
  const refused = await shard;
  expect(refused).toBeInstanceOf(FleetIdsInUseError);
  expect((refused as Error).message).toContain("7500 of this fleet's 7500 node ids are claimed");
  await claim.close();
}, 120_000);

it("refuses a claim whose connection the broker closes, saying so (it used to wait for ever)", async () => {
  broker = await startBroker({ host: "127.0.0.1", port: 0, logger, maxPacketBytes: 2048 });
  // Ids with no numbers in common: one by one, over the broker's limit.
  const ids = Array.from({ length: 400 }, (_, i) =>
    NodeId(`room-${String.fromCharCode(97 + (i % 26))}${i}x`),
  );
  const got = await claimFleet(
    { url: broker.url, prefix, ids, keepaliveS: 5, waitMs: 300 },
    new RealScheduler(),
    () => {},
  ).catch((e: unknown) => e);
  expect(got).toBeInstanceOf(Error);
  expect((got as Error).message).toMatch(
    /^the broker at mqtt:\/\/127\.0\.0\.1:\d+ closed the connection of the run's claim on its 400 ids \(a \d+-byte retained message on tf\/claim\/\w+\) before acknowledging it/,
  );
}, 60_000);

it("ends a claim the broker never acknowledges at the run's stop", async () => {
  // Answers the CONNECT, then nothing: the subscribe that follows is never acknowledged.
  let subscribed: () => void = () => {};
  const subscribing = new Promise<void>((resolve) => {
    subscribed = resolve;
  });
  const srv = net.createServer((s) => {
    held.push(s);
    s.on("error", () => {});
    s.once("data", () => {
      s.write(Buffer.from([0x20, 0x02, 0x00, 0x00]));
      s.once("data", () => subscribed());
    });
  });
  servers.push(srv);
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  const { port } = srv.address() as net.AddressInfo;
  const stop = new AbortController();
  const claim = claimFleet(
    { url: `mqtt://127.0.0.1:${port}`, prefix, ids: fleetIds(2), keepaliveS: 60, waitMs: 1000 },
    // Its claim's clear on the way out waits for an acknowledgement at most CLEAR_WAIT_MS, on this clock.
    new RealScheduler(),
    () => {},
    stop.signal,
  ).catch((e: unknown) => e);
  await subscribing;
  stop.abort("SIGTERM");
  const got = await claim;
  expect(got).toBeInstanceOf(FleetStartStoppedError);
  expect((got as FleetStartStoppedError).reason).toBe("SIGTERM");
  expect((got as Error).message).toBe("stopped while claiming the fleet's ids: nothing ran");
}, 30_000);
