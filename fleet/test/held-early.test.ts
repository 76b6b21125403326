// Soon after the fleet registered, a run that joined a twins service asks whether it holds the
// registered nodes (fleet/held-early.ts): one question while the service has room, every node's
// only when it is full, and a warning naming the nodes not held.
import { describe, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { Prefix } from "../../protocol/index.js";
import { askHeldEarly, earlyHeldLine, unansweredEarlyLine } from "../held-early.js";
import { HELD_WAIT_MS } from "../joined-held.js";
import { FakeClient, fleet } from "./held-client.js";

/** A service keeping `max` twins, holding the first `max` of the fleet. */
const service = (max: number) => (seq: number, ids: readonly string[]) =>
  `H1 ${seq} ${max} ${Math.min(max, 200)} ${ids.filter((i) => Number(i.slice(2)) >= max).join(" ")}`.trim();

describe("asking early whether the joined service holds the registered nodes", () => {
  it("asks one question of a service with room to spare, and warns of nothing", async () => {
    const client = new FakeClient(service(200_000));
    const h = await askHeldEarly(client, Prefix("tf"), "ctl-a", fleet, new FakeScheduler());
    expect(client.asked).toBe(1);
    expect(h).toMatchObject({ asked: 200, answered: 200, notHeld: 0, maxNodes: 200_000, twins: 200 });
    expect(earlyHeldLine(h, 200)).toBeUndefined();
  });

  it("asks about every node of a full service, and names those it holds none of", async () => {
    const client = new FakeClient(service(50));
    const h = await askHeldEarly(client, Prefix("tf"), "ctl-a", fleet, new FakeScheduler());
    expect(client.asked).toBeGreaterThan(2); // the first, then the whole fleet's
    expect(h).toMatchObject({ asked: 200, answered: 200, notHeld: 150, maxNodes: 50, twins: 50 });
    expect(earlyHeldLine(h, 200)).toBe(
      "150 of the 200 nodes registered have no twin in the twins service ctl-a, which keeps at most 50 twins (--max-nodes 50) and holds 50: n-0050, n-0051, n-0052, n-0053, n-0054 and 145 more are neither shown nor controlled by it, and fail this run at its end; to fix it, stop the run (Ctrl-C) and start the service with --max-nodes above the fleet's 200",
    );
  });

  it("asks about every node of a service full with exactly the fleet, and warns of nothing", async () => {
    const client = new FakeClient(service(200));
    const h = await askHeldEarly(client, Prefix("tf"), "ctl-a", fleet, new FakeScheduler());
    expect(client.asked).toBeGreaterThan(2);
    expect(earlyHeldLine(h, 200)).toBeUndefined();
  });

  it("warns of a service that does not answer, after the wait on the run's clock, telling how to clear a dead one", async () => {
    const sched = new FakeScheduler();
    const client = new FakeClient(() => undefined);
    const asking = askHeldEarly(client, Prefix("tf"), "tf-twins-dead", fleet, sched);
    await new Promise((r) => setImmediate(r));
    sched.advance(HELD_WAIT_MS);
    const h = await asking;
    expect(client.asked).toBe(1);
    expect(h).toMatchObject({ asked: 1, answered: 0, notHeld: 0 });
    expect(earlyHeldLine(h, 200)).toBeUndefined();
    expect(unansweredEarlyLine(h, Prefix("tf"))).toBe(
      "the twins service tf-twins-dead this run joined did not answer within 2 s whether it holds the fleet's nodes: one older than this run does not answer, and one that no longer runs cannot (its presence kept by a broker that lost its last will, after a power loss). The nodes pair through their retained configs either way, but nothing takes sets or keeps the pairing while no twins service runs: if none does, stop the run (Ctrl-C), clear the presence (mosquitto_pub -r -n -t tf/control/tf-twins-dead) and start the run again",
    );
  });

  it("does not warn of an answer, or of a question not asked", async () => {
    const client = new FakeClient(service(200_000));
    const h = await askHeldEarly(client, Prefix("tf"), "ctl-a", fleet, new FakeScheduler());
    expect(unansweredEarlyLine(h, Prefix("tf"))).toBeUndefined();
    expect(unansweredEarlyLine(undefined, Prefix("tf"))).toBeUndefined();
  });

  it("asks nothing when no node registered", async () => {
    const client = new FakeClient(service(50));
    expect(await askHeldEarly(client, Prefix("tf"), "ctl-a", [], new FakeScheduler())).toBeUndefined();
    expect(client.asked).toBe(0);
  });
});
