/**
 * A fleet run on virtual time: the same seed gives the same report to the bit — the twins service's
 * registrations and view included — another seed another one; faults that the in-memory broker and
 * the twins can carry out are measured; what needs real time is refused before anything starts,
 * naming the option.
 */
import { describe, expect, it } from "vitest";
import type { ConvergenceReport } from "../../twins/index.js";
import type { FleetOptions } from "../options.js";
import { requirementFailures } from "../report.js";
import { FleetRun, runFleet } from "../run.js";

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
    expect(r.scenario).toMatchObject({ clock: "virtual", brokerKind: "memory", twins: "own" });
    expect(r.presses).toBeGreaterThan(50);
    expect(r.link.retransmissions).toBeGreaterThan(0);
    expect(r.registration.registered).toBe(24);
    // The twins registered every node, desired its pairing and had every node confirm it.
    expect(r.twinsView).toEqual({ known: 24, online: 24, desiredAsPaired: 24, pairingConfirmed: 24 });
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

  it("gives the same report at a paced speed as flat out: the pace moves wall time only", async () => {
    const flat = JSON.stringify(await runFleet({ ...fleet, seed: "pace" }));
    const run = await FleetRun.start({ ...fleet, seed: "pace" });
    const clock = run.virtual;
    if (!clock) throw new Error("a virtual run has its clock");
    // ~50 virtual seconds at ×200: a quarter of a wall second of waits between the timers.
    clock.setPace({ speed: 200, paused: false });
    expect(JSON.stringify(await run.done)).toBe(flat);
    expect(() => clock.setPace({ speed: 0, paused: false })).toThrow(
      'speed must be a positive number of virtual seconds per second or "max", got 0',
    );
  });

  it("has its twins service register every node and see the fleet converge to 1", async () => {
    const run = await FleetRun.start({ ...fleet, faults: [], seed: "conv" });
    const reports: ConvergenceReport[] = [];
    run.twins.on("convergence", (c) => reports.push(c));
    const report = await run.done;
    expect(report.registration.registered).toBe(24);
    expect(report.twinsView).toEqual({ known: 24, online: 24, desiredAsPaired: 24, pairingConfirmed: 24 });
    // Under 10 % loss the fleet was out of sync at times during the presses, and in sync at the end.
    expect(reports.some((c) => c.fraction < 1)).toBe(true);
    expect(reports.at(-1)).toMatchObject({ fraction: 1, inSync: 24, known: 24 });
  });

  it("restarts its twins service on virtual time, and runs without one when asked", async () => {
    const small: FleetOptions = {
      clock: "virtual",
      nodes: 12,
      durationS: 15,
      settleS: 5,
      ratePerNodePerMin: 12,
    };
    const opts: FleetOptions = { ...small, faults: [{ kind: "twins-restart", atS: 5, downS: 2 }] };
    const a = JSON.stringify(await runFleet(opts));
    expect(JSON.stringify(await runFleet(opts))).toBe(a);
    const r = JSON.parse(a);
    expect(r.faults.map((f: { kind: string }) => f.kind)).toEqual(["twins-restart"]);
    expect(r.faults[0].error).toBeUndefined();
    expect(r.twinsView).toEqual({ known: 12, online: 12, desiredAsPaired: 12, pairingConfirmed: 12 });
    expect(r.diverged).toBe(0);
    const bare = await runFleet({ ...small, twins: false });
    expect(bare.scenario.twins).toBe("none");
    expect(bare.registration.registered).toBe(12);
    // Nothing but a twins service confirms a pairing.
    expect(bare.twinsView).toMatchObject({ known: 12, desiredAsPaired: 12, pairingConfirmed: 0 });
  });

  it("starts its twins service again while the broker is away: it waits for it, as on real time", async () => {
    const r = await runFleet({
      clock: "virtual",
      nodes: 12,
      durationS: 15,
      settleS: 5,
      ratePerNodePerMin: 12,
      faults: [
        { kind: "twins-restart", atS: 5, downS: 2 },
        { kind: "broker-restart", atS: 5, downS: 5 },
      ],
    });
    expect(r.faults.map((f) => f.error)).toEqual([undefined, undefined]);
    expect(r.twinsView).toEqual({ known: 12, online: 12, desiredAsPaired: 12, pairingConfirmed: 12 });
    expect(r.faults[1]?.recoveryMs).not.toBeNull();
    expect(requirementFailures(r)).toEqual([]);
    // --assert fails a run whose fault could not be carried out, or that never recovered from one.
    const [twins, broker] = r.faults as [(typeof r.faults)[number], (typeof r.faults)[number]];
    expect(
      requirementFailures({ ...r, faults: [{ ...twins, error: "cannot reach the broker" }, broker] }),
    ).toEqual(["fault 1 (twins-restart at 5.0 s) could not be carried out: cannot reach the broker"]);
    expect(requirementFailures({ ...r, faults: [twins, { ...broker, recoveryMs: null }] })).toEqual([
      "fault 2 (broker-restart at 5.0 s): the fleet had not recovered from it by the end of the run",
    ]);
  });

  it("says when the presses were stopped early, and fails --assert when none was made", async () => {
    const run = await FleetRun.start({ clock: "virtual", nodes: 8, durationS: 600, settleS: 1 });
    // Stopped as the presses begin (q or Ctrl-C then): a run of none.
    run.on("phase", (p) => p === "press" && run.stop());
    const r = await run.done;
    expect(r.presses).toBe(0);
    expect(r.stoppedEarlyS).toBeLessThan(600);
    expect(r.cutShort).toBe(false);
    expect(requirementFailures(r)).toContainEqual(
      expect.stringMatching(
        /^no press was made \(the presses were stopped after [\d.]+ s\): nothing was measured$/,
      ),
    );
    const full = await runFleet({ clock: "virtual", nodes: 8, durationS: 5, settleS: 1 });
    expect(full.stoppedEarlyS).toBeUndefined();
  });

  it("refuses what needs real time, naming the option", async () => {
    await expect(runFleet({ clock: "virtual", broker: "mqtt://127.0.0.1:1883" })).rejects.toThrow(
      "options.broker: needs real time (a real broker, real sockets); options.clock virtual runs the nodes on an in-memory broker",
    );
    await expect(
      runFleet({ clock: "virtual", faults: [{ kind: "frozen-client", atS: 1, forS: 1 }] }),
    ).rejects.toThrow("options.faults: frozen-client needs real time");
    await expect(
      runFleet({ clock: "virtual", twins: false, faults: [{ kind: "twins-restart", atS: 1, downS: 1 }] }),
    ).rejects.toThrow(
      "options.faults: twins-restart needs the run's twins service, and the run has none (options.twins)",
    );
    await expect(runFleet({ twins: false })).rejects.toThrow(
      "options.twins: a run without twins needs options.clock virtual: a real run always has its twins service",
    );
    await expect(runFleet({ nodes: 30_000 })).rejects.toThrow(
      "options.nodes: must be a whole number from 1 to 20000 on real time, got 30000 (up to 200000 with options.clock virtual)",
    );
    await expect(
      runFleet({ clock: "virtual", workers: 2, faults: [{ kind: "broker-restart", atS: 1, downS: 1 }] }),
    ).rejects.toThrow(
      "options.workers: faults act on the whole fleet at once: a options.clock virtual run with options.faults runs in one thread (leave out options.workers)",
    );
    await expect(runFleet({ clock: "sundial" as never })).rejects.toThrow(
      'options.clock: must be real or virtual, got "sundial"',
    );
  });
});
