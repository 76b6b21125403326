/**
 * A broker that drops the run's claim (access rules that deny the login `<prefix>/claim/…`: Mosquitto
 * acknowledges such a publish and drops it) never passes it back: the run goes on without a claim,
 * and says so as its wait starts and when it gives up, rather than waiting for ever
 * (fleet/fleet-claim.ts), and says it was not held (`notHeld`), for the run's report. A claim cleared on
 * the broker before the claim step finished (passed back, so the broker lets the run claim) is
 * published again, 10 tries at most, and kept as a loss held again; never back, the run goes on
 * without one as well.
 */
import { createServer, type Server } from "node:net";
import { Aedes } from "aedes";
import { afterEach, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { Prefix } from "../../protocol/index.js";
import { fleetIds } from "../../sim/topology.js";
import { RECLAIM_RETRY_MS } from "../claim-hold.js";
import { CLAIM_ECHO_MS, CLAIM_REPUBLISH_TRIES, claimFleet } from "../fleet-claim.js";

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

/**
 * A broker on port 0 whose `clear(count)` decides, at each claim the run publishes (its `count`-th),
 * whether to clear it on the spot (a tool, another run's --fresh), and whose `forward(clears)` whether
 * to pass a claim on, after that many clears; `read()` resolves once the run acknowledged its first claim and the clear.
 */
async function clearingBroker(
  clear: (count: number) => boolean,
  forward: (clears: number) => boolean = () => true,
) {
  const broker = await Aedes.createBroker();
  aedes = broker;
  let count = 0;
  let clears = 0;
  broker.on("publish", (packet, client) => {
    if (
      client?.id.startsWith("tf-claim-") &&
      packet.topic.startsWith("tf/claim/") &&
      packet.payload.length > 0
    ) {
      if (clear(++count) && ++clears > 0)
        broker.publish(
          { cmd: "publish", topic: packet.topic, payload: Buffer.alloc(0), qos: 1, retain: true, dup: false },
          () => {},
        );
    }
  });
  broker.authorizeForward = (_client, packet) =>
    packet.topic.startsWith("tf/claim/") && packet.payload.length > 0 && !forward(clears) ? null : packet;
  // The run's client acknowledged both its claim and the clear (aedes names no topic in an ack): it has read them.
  let acks = 0;
  broker.on("ack", (_packet, client) => {
    if (client.id.startsWith("tf-claim-")) acks++;
  });
  const tcp = createServer(broker.handle);
  server = tcp;
  await new Promise<void>((r) => tcp.listen(0, "127.0.0.1", () => r()));
  const port = (tcp.address() as { port: number }).port;
  const read = async () => {
    for (let i = 0; i < 2_000 && acks < 2; i++) await new Promise((r) => setTimeout(r, 5));
    return acks >= 2;
  };
  return { url: `mqtt://127.0.0.1:${port}`, read };
}

/**
 * Claims 4 ids on `url`, stepping the fake clock once the broker's clear was read; resolves to the
 * claim and the lines. `byIo`: once the run says it claims again, the clock stands still while the
 * run is given (10 s) to settle on the broker's answers alone, then steps again.
 */
async function claimOn(url: string, read: () => Promise<boolean>, byIo = false) {
  const sched = new FakeScheduler(0);
  const warnings: string[] = [];
  let settled = false;
  const claiming = claimFleet(
    { url, prefix: Prefix("tf"), ids: fleetIds(4), keepaliveS: 15, waitMs: 23_500 },
    sched,
    (w) => warnings.push(w),
  ).finally(() => {
    settled = true;
  });
  // The clock stands still until the run has read the clear: its claim step cannot end before.
  expect(await read()).toBe(true);
  for (let i = 0; i < 2_000 && !settled && !(byIo && warnings.length > 0); i++) {
    sched.advance(50);
    await new Promise((r) => setImmediate(r));
  }
  for (let i = 0; i < 1_000 && byIo && !settled; i++) await new Promise((r) => setTimeout(r, 10));
  for (let i = 0; i < 2_000 && !settled; i++) {
    sched.advance(50);
    await new Promise((r) => setImmediate(r));
  }
  expect(settled).toBe(true);
  return { claim: await claiming, warnings, sched };
}

it("claims again a claim cleared before the claim step finished, and keeps the loss as held again", async () => {
  const { url, read } = await clearingBroker((n) => n === 1);
  const { claim, warnings } = await claimOn(url, read, true);
  expect(warnings).toEqual([
    expect.stringMatching(
      /was cleared on the broker before the claim step finished .*: claiming them again \(a try every 1 s, 10 at most\)/,
    ),
    expect.stringMatching(/is held again, \d+\.\d s after it was cleared in the claim step \(1 try\)/),
  ]);
  expect(claim.notHeld).toBeUndefined();
  expect(claim.losses()).toEqual([
    { atMs: expect.any(Number), why: "cleared", heldAgainMs: expect.any(Number) },
  ]);
  await claim.close();
});

it("goes on without a claim cleared in the claim step and never passed back again, after 10 tries", async () => {
  // Its first claim passed back and cleared, none after passed back: each try ends on the clock.
  const { url, read } = await clearingBroker(
    (n) => n === 1,
    (clears) => clears === 0,
  );
  const { claim, warnings, sched } = await claimOn(url, read);
  expect(warnings).toEqual([
    expect.stringMatching(/was cleared on the broker before the claim step finished .*: claiming them again/),
    expect.stringMatching(/was cleared again after each of 10 tries: starting without one/),
  ]);
  expect(claim.notHeld?.why).toBe("cleared");
  expect(claim.notHeld?.waitedMs).toBeGreaterThanOrEqual(CLAIM_REPUBLISH_TRIES * RECLAIM_RETRY_MS);
  expect(sched.now()).toBeGreaterThanOrEqual(CLAIM_REPUBLISH_TRIES * RECLAIM_RETRY_MS);
  await claim.close();
});
