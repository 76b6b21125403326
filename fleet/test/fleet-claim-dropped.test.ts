/**
 * A broker that drops the run's claim (access rules that deny the login `<prefix>/claim/…`: Mosquitto
 * acknowledges such a publish and drops it) never passes it back: the run goes on without a claim,
 * and says so as its wait starts and when it gives up, rather than waiting for ever
 * (fleet/fleet-claim.ts). A claim cleared on the broker before the claim step finished does the same;
 * either way the claim says it was not held (`notHeld`), for the run's report.
 */
import { createServer, type Server } from "node:net";
import { Aedes } from "aedes";
import { afterEach, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { Prefix } from "../../protocol/index.js";
import { fleetIds } from "../../sim/topology.js";
import { CLAIM_ECHO_MS, claimFleet } from "../fleet-claim.js";

let aedes: Aedes | undefined;
let server: Server | undefined;

afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  await new Promise<void>((r) => (aedes ? aedes.close(() => r()) : r()));
});

it("goes on without a claim the broker never passes back, and says why", async () => {
  const broker = await Aedes.createBroker();
  aedes = broker;
  // Delivered to no one: what a broker whose rules deny the topic does with it.
  broker.authorizeForward = (_client, packet) => (packet.topic.startsWith("tf/claim/") ? null : packet);
  const tcp = createServer(broker.handle);
  server = tcp;
  await new Promise<void>((r) => tcp.listen(0, "127.0.0.1", () => r()));
  const port = (tcp.address() as { port: number }).port;
  const sched = new FakeScheduler(0);
  const warnings: string[] = [];
  let settled = false;
  const claiming = claimFleet(
    {
      url: `mqtt://127.0.0.1:${port}`,
      prefix: Prefix("tf"),
      ids: fleetIds(4),
      keepaliveS: 15,
      waitMs: 23_500,
    },
    sched,
    (w) => warnings.push(w),
  ).finally(() => {
    settled = true;
  });
  // The claim's own waits are on the fake clock; its I/O is real: step the clock between turns.
  for (let i = 0; i < 2_000 && !settled; i++) {
    sched.advance(50);
    await new Promise((r) => setImmediate(r));
  }
  expect(settled).toBe(true);
  const claim = await claiming;
  expect(sched.now()).toBeGreaterThanOrEqual(CLAIM_ECHO_MS);
  expect(warnings).toEqual([
    expect.stringMatching(
      /has not been passed back by the broker: waiting up to 10 s for it before starting/,
    ),
    expect.stringContaining("the broker did not pass the run's claim on its ids (tf/claim/"),
  ]);
  expect(warnings[1]).toContain("publish and subscribe tf/claim/#");
  expect(claim.notHeld).toEqual({ why: "not-passed-back", waitedMs: expect.any(Number) });
  expect(claim.notHeld?.waitedMs).toBeGreaterThanOrEqual(CLAIM_ECHO_MS);
  await claim.close();
});

it("says a claim cleared before the claim step finished, and keeps that it went on without one", async () => {
  const broker = await Aedes.createBroker();
  aedes = broker;
  let mine: string | undefined;
  let clearSeen = false;
  // The run's claim, cleared on the broker as soon as it took it (a tool, another run's --fresh).
  broker.on("publish", (packet, client) => {
    if (
      client?.id.startsWith("tf-claim-") &&
      packet.topic.startsWith("tf/claim/") &&
      packet.payload.length > 0
    ) {
      mine = packet.topic;
      broker.publish(
        { cmd: "publish", topic: mine, payload: Buffer.alloc(0), qos: 1, retain: true, dup: false },
        () => {},
      );
    }
  });
  // The run's client acknowledged both its claim and the clear (aedes names no topic in an ack): it has read them.
  let acks = 0;
  broker.on("ack", (_packet, client) => {
    if (client.id.startsWith("tf-claim-") && ++acks === 2) clearSeen = true;
  });
  const tcp = createServer(broker.handle);
  server = tcp;
  await new Promise<void>((r) => tcp.listen(0, "127.0.0.1", () => r()));
  const port = (tcp.address() as { port: number }).port;
  const sched = new FakeScheduler(0);
  const warnings: string[] = [];
  let settled = false;
  const claiming = claimFleet(
    {
      url: `mqtt://127.0.0.1:${port}`,
      prefix: Prefix("tf"),
      ids: fleetIds(4),
      keepaliveS: 15,
      waitMs: 23_500,
    },
    sched,
    (w) => warnings.push(w),
  ).finally(() => {
    settled = true;
  });
  // The clock stands still until the run has read the clear: its claim step cannot end before.
  for (let i = 0; i < 2_000 && !clearSeen; i++) await new Promise((r) => setTimeout(r, 5));
  expect(clearSeen).toBe(true);
  for (let i = 0; i < 2_000 && !settled; i++) {
    sched.advance(50);
    await new Promise((r) => setImmediate(r));
  }
  expect(settled).toBe(true);
  const claim = await claiming;
  expect(warnings).toEqual([
    expect.stringMatching(/was cleared on the broker before the claim step finished .*: waiting up to 10 s/),
    expect.stringMatching(/was not there again within 10 s: starting without one/),
  ]);
  expect(claim.notHeld?.why).toBe("cleared");
  expect(claim.notHeld?.waitedMs).toBeGreaterThanOrEqual(CLAIM_ECHO_MS);
  await claim.close();
});
