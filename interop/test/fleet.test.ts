// A fleet run against Mosquitto instead of the embedded broker: 100 simulated Uno nodes register,
// press for 8 s and settle, and the run loses nothing and ends with every node where its pairing
// puts it — the same requirements the embedded broker is held to.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runFleet } from "../../fleet/run.js";
import { type Mosquitto, startMosquitto } from "../mosquitto.js";
import { retained } from "./helpers.js";

let broker: Mosquitto;
beforeAll(async () => {
  broker = await startMosquitto();
});
afterAll(async () => {
  await broker?.close();
});

describe("a fleet run on Mosquitto", () => {
  it("registers every node, loses nothing, diverges nowhere", async () => {
    const r = await runFleet({
      broker: broker.url,
      nodes: 100,
      durationS: 8,
      settleS: 4,
      ratePerNodePerMin: 10,
      groupSize: 5,
      workers: 2,
    });
    expect(r.scenario.broker).toBe(broker.url);
    expect(r.registration.registered).toBe(100);
    expect(r.requirements.registrationUnder30s).toBe(true);
    // 100 nodes at 10 presses a minute for 8 s: about 133 presses, each reaching 4 ring members.
    expect(r.presses).toBeGreaterThan(50);
    expect(r.deliveries).toBeGreaterThanOrEqual(r.presses * 4 - r.superseded);
    expect(r.lost).toBe(0);
    expect(r.diverged).toBe(0);
    expect(r.sync.p99Ms).toBeLessThan(1000);
  }, 90_000);

  it("a second run on the same broker keeps the fleet's state; with --fresh it starts from cleared state", async () => {
    const counters = async () =>
      new Map(
        [...(await retained(broker.url, "tf/report/+")).values()]
          .filter((d) => /^tf\/report\/n-00[01]\d$/.test(d.topic))
          .map((d) => [d.topic, Number(d.payload.split(" ")[2])] as const),
      );
    // The first run left pressed states behind in the retained reports of the ids it shares.
    const before = await counters();
    expect(Math.max(...before.values())).toBeGreaterThan(0);
    const again = (fresh: boolean) =>
      runFleet({
        broker: broker.url,
        nodes: 20,
        durationS: 2,
        settleS: 3,
        ratePerNodePerMin: 0,
        groupSize: 5,
        workers: 1,
        ...(fresh ? { fresh: true } : {}),
      });
    // A fleet that reboots finds its state on the broker, as real boards would: nothing goes back.
    const kept = await again(false);
    expect(kept).toMatchObject({ presses: 0, lostForGood: 0, regressions: 0, diverged: 0 });
    expect(kept.registration.registered).toBe(20);
    expect(await counters()).toEqual(before);
    // --fresh clears it first: had the old reports stayed, the nodes would have adopted their stamps.
    const fresh = await again(true);
    expect(fresh).toMatchObject({ presses: 0, lost: 0, diverged: 0 });
    const after = await counters();
    expect(after.size).toBe(20);
    expect([...after.values()].every((c) => c === 0)).toBe(true);
  }, 90_000);
});
