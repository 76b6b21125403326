/**
 * A broker that drops the run's claim (access rules that deny the login `<prefix>/claim/…`: Mosquitto
 * acknowledges such a publish and drops it) never passes it back: the run goes on without a claim,
 * and says so, rather than waiting for ever (fleet/fleet-claim.ts).
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
    expect.stringContaining("the broker did not pass the run's claim on its ids (tf/claim/"),
  ]);
  expect(warnings[0]).toContain("publish and subscribe tf/claim/#");
  await claim.close();
});
