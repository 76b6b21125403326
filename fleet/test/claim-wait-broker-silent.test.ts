/**
 * A run waiting for another run's claim on its ids to go (fleet/fleet-claim.ts) while the broker
 * alone stops answering (kill -STOP of the broker): a silent broker passes on no clear and publishes
 * no will, so its silence is no time the claim stayed. The claim's wait left out the run's own
 * stalls, not the broker's silences: a broker stopped for 30 s in it had the run refused.
 */
import { EventEmitter } from "node:events";
import { createServer, type Server } from "node:net";
import { Aedes } from "aedes";
import mqtt from "mqtt";
import { afterEach, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { Prefix } from "../../protocol/index.js";
import { fleetIds } from "../../sim/topology.js";
import { claimFleet, claimTopic } from "../fleet-claim.js";
import { BrokerSilences, FleetIdsInUseError } from "../ids-in-use.js";

let aedes: Aedes | undefined;
let server: Server | undefined;
let other: mqtt.MqttClient | undefined;

afterEach(async () => {
  await other?.endAsync(true);
  other = undefined;
  // The broker first: it ends its clients' connections, which the server's close waits for.
  await new Promise<void>((r) => (aedes ? aedes.close(() => r()) : r()));
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
});

const prefix = Prefix("tf");
const ids = fleetIds(4);

/** A broker on port 0 with another run's claim on `ids` held; the url. */
async function brokerWithClaim(): Promise<string> {
  const broker = await Aedes.createBroker();
  aedes = broker;
  const tcp = createServer(broker.handle);
  server = tcp;
  await new Promise<void>((r) => tcp.listen(0, "127.0.0.1", () => r()));
  const url = `mqtt://127.0.0.1:${(tcp.address() as { port: number }).port}`;
  other = await mqtt.connectAsync(url, { clientId: "tf-claim-other", reconnectPeriod: 0 });
  await other.publishAsync(claimTopic(prefix, "other"), JSON.stringify({ ids }), { qos: 1, retain: true });
  return url;
}

/** The run's probe of the broker, on the fake clock: `heard()` an echo now, `lost(at)`, `back()`. */
function probe(sched: FakeScheduler) {
  const events = Object.assign(new EventEmitter(), { lastHeardAt: 0 });
  return {
    silences: new BrokerSilences(events, () => sched.now()),
    heard: () => {
      events.lastHeardAt = sched.now();
    },
    lost: (at: number) => events.emit("broker", false, at),
    back: () => {
      events.lastHeardAt = sched.now();
      events.emit("broker", true);
    },
  };
}

/** Starts the claim; resolves once it waits for the other's claim to go, at `startMs` on the clock. */
async function claimWaiting(sched: FakeScheduler, url: string, silences: BrokerSilences) {
  // Sees the run's claim passed on: its I/O is real, and the clock waits for it.
  const spy = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  await spy.subscribeAsync(`${prefix}/claim/+`);
  let claimed = false;
  spy.on("message", (topic, _p, packet) => {
    claimed ||= !packet.retain && topic !== claimTopic(prefix, "other");
  });
  const warnings: string[] = [];
  let outcome: unknown = "waiting";
  const claiming = claimFleet({ url, prefix, ids, keepaliveS: 15, waitMs: 23_500, silences }, sched, (w) =>
    warnings.push(w),
  );
  claiming.then(
    (c) => {
      outcome = c;
    },
    (e: unknown) => {
      outcome = e;
    },
  );
  // The claim's waits are on the fake clock, its I/O real: the clock stands until the broker has
  // passed the claim on, then goes at half speed until the wait begins (the claim's client hears
  // its claim back within its 10 s).
  for (let i = 0; i < 2_000 && !claimed; i++) await new Promise((r) => setTimeout(r, 5));
  await spy.endAsync(true);
  for (let i = 0; i < 2_000 && warnings.length === 0 && outcome === "waiting"; i++) {
    sched.advance(10);
    await new Promise((r) => setTimeout(r, 20));
  }
  expect(warnings).toEqual([expect.stringContaining("claimed by another run starting on the broker")]);
  return { startMs: sched.now(), outcome: () => outcome };
}

/** Lets the claim's timers run after the clock moved. */
const turn = () => new Promise((r) => setImmediate(r));

/** `ms` of the broker answering: an echo every 500 ms. */
async function answering(sched: FakeScheduler, broker: { heard(): void }, ms: number) {
  for (let t = 0; t < ms; t += 500) {
    sched.advance(500);
    broker.heard();
    await turn();
  }
}

it("does not count the broker's silence as time the other run's claim stayed, and says what it left out", async () => {
  const url = await brokerWithClaim();
  const sched = new FakeScheduler(0);
  const broker = probe(sched);
  const { startMs, outcome } = await claimWaiting(sched, url, broker.silences);
  await answering(sched, broker, 1_000); // kill -STOP of the broker 1 s into the wait
  sched.advance(5_000);
  broker.lost(startMs + 1_000); // told 5 s after its last packet
  sched.advance(25_000);
  broker.back(); // kill -CONT 30 s after the stop
  await answering(sched, broker, 22_000); // 23 s counted
  expect(outcome()).toBe("waiting");
  await answering(sched, broker, 500);
  // Refused, the run withdraws its claim (real I/O) before it throws.
  for (let i = 0; i < 2_000 && outcome() === "waiting"; i++) await new Promise((r) => setTimeout(r, 5));
  expect(outcome()).toBeInstanceOf(FleetIdsInUseError);
  expect((outcome() as Error).message).toContain(
    "stayed claimed for 23.5 s of the broker answering (30.0 s left out: the broker answered nothing for 30.0 s and could publish no will): another fleet is booting with them",
  );
});

it("holds a claim's wait that ends as the broker falls silent until the probe tells it lost", async () => {
  const url = await brokerWithClaim();
  const sched = new FakeScheduler(0);
  const broker = probe(sched);
  const { startMs, outcome } = await claimWaiting(sched, url, broker.silences);
  await answering(sched, broker, 21_500); // stopped 2 s before the wait's end
  sched.advance(2_000);
  await turn();
  expect(outcome()).toBe("waiting");
  sched.advance(3_000);
  broker.lost(startMs + 21_500); // told 5 s after its last packet
  await turn();
  // The other run's claim goes 20 s after the broker answers again: this run claims the ids.
  sched.advance(10_000);
  broker.back();
  await answering(sched, broker, 1_000);
  expect(outcome()).toBe("waiting");
  await other?.publishAsync(claimTopic(prefix, "other"), "", { qos: 1, retain: true });
  for (let i = 0; i < 1_000 && outcome() === "waiting"; i++) await answering(sched, broker, 500);
  expect(outcome()).not.toBeInstanceOf(Error);
  await (outcome() as { close(): Promise<void> }).close();
});
