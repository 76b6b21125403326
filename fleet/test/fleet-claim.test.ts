/**
 * Two runs of one fleet started at the same moment on one broker: both found the ids offline, both
 * booted, and each then took the other's sessions over. A run's claim on its ids (fleet/fleet-claim.ts)
 * lets one of them boot; a claim whose run ended, or died, does not hold the next run back.
 */
import mqtt from "mqtt";
import { pino } from "pino";
import { afterEach, beforeEach, expect, it } from "vitest";
import { RealScheduler } from "../../node/scheduler.js";
import { Prefix } from "../../protocol/index.js";
import { fleetIds } from "../../sim/topology.js";
import { type BrokerHost, openBrokerHost } from "../broker-host.js";
import { claimFleet, claimTopic } from "../fleet-claim.js";
import { FleetIdsInUseError } from "../ids-in-use.js";
import { FleetRun } from "../run.js";
import { idleShard } from "./idle-shard.js";

let broker: BrokerHost;
let other: mqtt.MqttClient | undefined;
const sched = new RealScheduler();
const prefix = Prefix("tf");
const ids = fleetIds(4);

beforeEach(async () => {
  broker = await openBrokerHost({ logger: pino({ level: "silent" }), scheduler: sched });
});

afterEach(async () => {
  await other?.endAsync(true);
  other = undefined;
  await broker.close();
});

const claim = (token: string, waitMs: number, these = ids) =>
  claimFleet({ url: broker.url, prefix, ids: these, keepaliveS: 1, waitMs, token }, sched, () => {});

/** Another run that found the ids offline and claimed them, its nodes about to boot. */
async function otherRunClaims(token: string): Promise<mqtt.MqttClient> {
  const c = await mqtt.connectAsync(broker.url, {
    clientId: `tf-claim-${token}`,
    reconnectPeriod: 0,
    will: { topic: claimTopic(prefix, token), payload: Buffer.alloc(0), qos: 1, retain: true },
  });
  await c.publishAsync(claimTopic(prefix, token), JSON.stringify({ ids }), { qos: 1, retain: true });
  return c;
}

it("refuses a run whose ids another run has claimed, though none of them is online yet", async () => {
  other = await otherRunClaims("other");
  const got = await FleetRun.start(idleShard(broker.url, 1)).catch((e: unknown) => e);
  if (got instanceof FleetRun) {
    got.cut();
    await got.done;
  }
  expect(got).toBeInstanceOf(FleetIdsInUseError);
  expect((got as Error).message).toContain(
    `4 of this fleet's 4 node ids are claimed on ${broker.url} (prefix tf: n-0000, n-0001, n-0002 and 1 more) by another run starting at the same time, and stayed claimed for 2.5 s`,
  );
});

// Five rounds of two real connects, claims and a 300 ms look each: 3.5 s on a quiet host, 43 s once
// on this 2-core host at a load average near 20. What is judged is the outcome, not the time; the
// limit only ends a hang.
it("of two runs claiming the same ids at once, exactly one goes on", async () => {
  for (let i = 0; i < 5; i++) {
    const got = await Promise.allSettled([claim(`a${i}`, 300), claim(`b${i}`, 300)]);
    expect(got.filter((g) => g.status === "fulfilled")).toHaveLength(1);
    for (const g of got) if (g.status === "fulfilled") await g.value.close();
  }
}, 120_000);

it("gives way to a claim taken first, and claims once it is released", async () => {
  const first = await claim("aaaa", 300);
  await expect(claim("bbbb", 300)).rejects.toBeInstanceOf(FleetIdsInUseError);
  // Disjoint ids (a prefix's other shard) do not compete.
  const beside = await claim("cccc", 300, fleetIds(8).slice(4));
  await first.close();
  const next = await claim("dddd", 300);
  await next.close();
  await beside.close();
});

it("a claim whose run died is cleared by its will, and the run waiting for it goes on", async () => {
  other = await otherRunClaims("dead");
  const c = other;
  other = undefined;
  let waits!: () => void;
  const waitingNow = new Promise<void>((resolve) => {
    waits = resolve;
  });
  const o = { url: broker.url, prefix, ids, keepaliveS: 1, waitMs: 60_000, token: "next" };
  const waiting = claimFleet(o, sched, () => waits());
  await waitingNow;
  c.stream.destroy(); // the run killed: its socket closed, the broker publishes the will
  const got = await waiting;
  await got.close();
});
