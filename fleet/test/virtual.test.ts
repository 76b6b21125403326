/**
 * A fleet run on virtual time: the same seed gives the same report to the bit, another seed another
 * one; faults that the in-memory broker can carry out are measured; what needs real time is refused
 * before anything starts, naming the option.
 */
import { describe, expect, it } from "vitest";
import type { FleetOptions } from "../options.js";
import { runFleet } from "../run.js";

const fleet: FleetOptions = {
  clock: "virtual",
  nodes: 24,
  durationS: 20,
  settleS: 5,
  lossPct: 10,
  ratePerNodePerMin: 12,
  faults: [
    { kind: "power-outage", atS: 5, offS: 2, nodes: "25%" },
    { kind: "broker-restart", atS: 10, downS: 3 },
  ],
};

describe("a fleet run on virtual time", () => {
  it("gives the same report for the same seed and another for another seed", async () => {
    const a = JSON.stringify(await runFleet({ ...fleet, seed: "one" }));
    const b = JSON.stringify(await runFleet({ ...fleet, seed: "one" }));
    const c = JSON.stringify(await runFleet({ ...fleet, seed: "two" }));
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    const r = JSON.parse(a);
    expect(r.scenario).toMatchObject({ clock: "virtual", brokerKind: "memory", twins: "none" });
    expect(r.presses).toBeGreaterThan(50);
    expect(r.link.retransmissions).toBeGreaterThan(0);
    expect(r.registration.registered).toBe(24);
    expect(r.sim).toMatchObject({ rssMB: null, keptUp: true, workers: 0 });
    // The outage hit a quarter of the fleet, the broker restart all of it; both recovered.
    expect(r.faults.map((f: { kind: string; nodes: number }) => [f.kind, f.nodes])).toEqual([
      ["power-outage", 6],
      ["broker-restart", 24],
    ]);
    for (const f of r.faults) expect(f.recoveryMs).toBeGreaterThan(0);
    expect(r.faults[1].disconnected).toBe(24);
    expect(r.lostForGood).toBe(0);
    expect(r.diverged).toBe(0);
  });

  it("refuses what needs real time, naming the option", async () => {
    await expect(runFleet({ clock: "virtual", broker: "mqtt://127.0.0.1:1883" })).rejects.toThrow(
      "options.broker: needs real time (a real broker, real sockets); options.clock virtual runs the nodes on an in-memory broker",
    );
    await expect(
      runFleet({ clock: "virtual", faults: [{ kind: "twins-restart", atS: 1, downS: 1 }] }),
    ).rejects.toThrow("options.faults: twins-restart needs real time");
    await expect(runFleet({ nodes: 30_000 })).rejects.toThrow(
      "options.nodes: must be a whole number from 1 to 20000 on real time, got 30000 (up to 200000 with options.clock virtual)",
    );
    await expect(runFleet({ clock: "virtual", workers: 2 })).rejects.toThrow(
      "options.workers: options.clock virtual runs every node in one thread",
    );
    await expect(runFleet({ clock: "sundial" as never })).rejects.toThrow(
      'options.clock: must be real or virtual, got "sundial"',
    );
  });
});
