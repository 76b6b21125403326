/**
 * What the tests of a claim held against a real broker share: the fleet they claim, the brokers and
 * tool clients they open (closed after each test), the run's claim taken, the fake clock moved on
 * while the claim's real I/O goes on, and the claims a broker holds, read by a client of their own.
 */
import type mqtt from "mqtt";
import { type RunningBroker, startBroker } from "../../broker/server.js";
import { client, nextMessage } from "../../broker/test/helpers.js";
import type { FakeScheduler } from "../../node/scheduler.js";
import { Prefix } from "../../protocol/index.js";
import { fleetIds } from "../../sim/topology.js";
import { claimFleet, claimTopic, type FleetClaim } from "../fleet-claim.js";

/** The fleet claimed: 4 ids under `tf`; this run's claim topic (token "mine") and another run's. */
export const prefix = Prefix("tf");
export const ids = fleetIds(4);
export const mine = claimTopic(prefix, "mine");
export const theirs = claimTopic(prefix, "theirs");

const brokers: RunningBroker[] = [];
const clients: mqtt.MqttClient[] = [];

/** A broker on port 0, closed by `closeOpened()`; its URL. */
export async function openBroker(): Promise<string> {
  const broker = await startBroker({ host: "127.0.0.1", port: 0 });
  brokers.push(broker);
  return broker.url;
}

/** A tool client of its own on `url` (clearing or writing retained messages), closed by `closeOpened()`. */
export async function toolOn(url: string): Promise<mqtt.MqttClient> {
  const tool = await client(url);
  clients.push(tool);
  return tool;
}

/** For `afterEach`: the tool clients, then the brokers, the test opened, closed. */
export async function closeOpened(): Promise<void> {
  for (const c of clients.splice(0)) await c.endAsync(true);
  for (const b of brokers.splice(0)) await b.close();
}

/** This run's claim (token "mine", keepalive 60 s, 1 s wait) taken on `url`, the fake clock driven until it is. */
export async function claimTaken(
  url: string,
  sched: FakeScheduler,
  log: Parameters<typeof claimFleet>[2],
): Promise<FleetClaim> {
  let claim: FleetClaim | undefined;
  const took = claimFleet(
    { url, prefix, ids, keepaliveS: 60, waitMs: 1_000, token: "mine" },
    sched,
    log,
  ).then((c) => {
    claim = c;
  });
  await drive(sched, () => claim !== undefined, "the claim taken");
  await took;
  return claim as FleetClaim;
}

/** Moves the fake clock on, 50 ms a step, until `done()` (the claim's I/O is real: each step waits a little). */
export async function drive(sched: FakeScheduler, done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2_000 && !done(); i++) {
    sched.advance(50);
    await new Promise((r) => setTimeout(r, 10));
  }
  if (!done()) throw new Error(`not seen within 100 s of the fake clock: ${what}`);
}

/** The claims under `prefix` the broker at `url` holds, topic → payload. */
export async function claimsHeld(url: string, prefix: string): Promise<Record<string, string>> {
  const c = await client(url);
  const got: Record<string, string> = {};
  c.on("message", (topic, payload, packet) => {
    if (packet.retain && payload.length > 0) got[topic] = payload.toString();
  });
  await c.subscribeAsync([`${prefix}/claim/+`, "marker"]);
  const marked = nextMessage(c, "marker");
  await c.publishAsync("marker", "m");
  await marked;
  await c.endAsync();
  return got;
}
