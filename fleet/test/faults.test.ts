// Fault schedules: presets, files, the errors that name entry and field, the seeded choice of nodes,
// and the runner on virtual time acting on a recording target.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { NodeId } from "../../protocol/index.js";
import { fleetIds } from "../../sim/topology.js";
import { FAULT_PRESETS } from "../faults/presets.js";
import { FaultRunner, type FaultTargets } from "../faults/runner.js";
import {
  checkScheduleFits,
  FaultScheduleError,
  loadFaultSchedule,
  parseSchedule,
  selectNodes,
} from "../faults/schedule.js";

describe("fault schedules", () => {
  it("reads presets, comma-separated, each movable with @S", () => {
    expect(loadFaultSchedule("broker-restart")).toEqual([{ kind: "broker-restart", atS: 20, downS: 5 }]);
    expect(loadFaultSchedule("power-outage@5, partition@30.5")).toEqual([
      { kind: "power-outage", atS: 5, offS: 2, nodes: "all" },
      { kind: "partition", atS: 30.5, forS: 60, nodes: "10%" },
    ]);
    for (const name of Object.keys(FAULT_PRESETS)) expect(loadFaultSchedule(name)).toHaveLength(1);
  });

  it("reads a file, as an object with faults or as a bare array", () => {
    const dir = mkdtempSync(join(tmpdir(), "tf-faults-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const a = join(dir, "a.json");
    writeFileSync(a, JSON.stringify({ $about: "x", faults: [{ kind: "loss", atS: 1, pct: 20, forS: 2 }] }));
    expect(loadFaultSchedule(a)).toEqual([{ kind: "loss", atS: 1, pct: 20, forS: 2 }]);
    const b = join(dir, "b.json");
    writeFileSync(b, JSON.stringify([{ kind: "twins-restart", atS: 3, downS: 1 }]));
    expect(loadFaultSchedule(b)).toEqual([{ kind: "twins-restart", atS: 3, downS: 1 }]);
    const bad = join(dir, "bad.json");
    writeFileSync(bad, "{ not json");
    expect(() => loadFaultSchedule(bad)).toThrow(/is not JSON/);
  });

  it.each([
    [{ faults: [{ kind: "meteor", atS: 1 }] }, /faults\[0\]\.kind/],
    [{ faults: [{ kind: "broker-restart", atS: -1, downS: 5 }] }, /faults\[0\]\.atS must not be negative/],
    [{ faults: [{ kind: "broker-restart", atS: 1 }] }, /faults\[0\]\.downS/],
    [{ faults: [{ kind: "partition", atS: 1, forS: 5, nodes: "lots" }] }, /faults\[0\]\.nodes must be "all"/],
    [{ faults: [{ kind: "loss", atS: 1, pct: 95 }] }, /faults\[0\]\.pct must be 0-90/],
    [
      { faults: [{ kind: "power-outage", atS: 1, offS: 2, nodes: ["n-0001", "n-0002", "n-0001"] }] },
      /faults\[0\]\.nodes names n-0001 more than once/,
    ],
    [
      { faults: [{ kind: "partition", atS: 1, forS: 5, nodes: "0%" }] },
      /faults\[0\]\.nodes must be a share above 0%/,
    ],
    [{ faults: [{ kind: "power-outage", atS: 1, offS: 2, nodes: "all", extra: 1 }] }, /faults\[0\].*extra/],
    [
      [
        { kind: "loss", atS: 1, pct: 5 },
        { kind: "frozen-client", atS: 1 },
      ],
      /faults\[1\]\.forS/,
    ],
  ])("names what is wrong in %j", (json, message) => {
    expect(() => parseSchedule(json, "f.json")).toThrow(FaultScheduleError);
    expect(() => parseSchedule(json, "f.json")).toThrow(message);
  });

  it("refuses a preset it does not know, listing the presets", () => {
    expect(() => loadFaultSchedule("meteor")).toThrow(/presets: broker-restart, power-outage, partition/);
  });

  it("checks a schedule against the run: start within the presses, nodes of the fleet", () => {
    const ids = fleetIds(10);
    expect(() =>
      checkScheduleFits([{ kind: "broker-restart", atS: 20, downS: 5 }], { durationS: 10, ids }),
    ).toThrow(/faults\[0\] \(broker-restart\) starts at 20 s, when the presses have ended \(--duration 10\)/);
    expect(() =>
      checkScheduleFits(
        [{ kind: "partition", atS: 1, forS: 5, nodes: ["n-0003", "x-1"].map((s) => NodeId(s)) }],
        {
          durationS: 10,
          ids,
        },
      ),
    ).toThrow(/faults\[0\]\.nodes: x-1 not in this fleet/);
    expect(() =>
      checkScheduleFits([{ kind: "power-outage", atS: 1, offS: 5, nodes: 11 }], { durationS: 10, ids }),
    ).toThrow(/faults\[0\]\.nodes: 11 nodes, in a fleet of 10/);
  });

  it("draws a share of the nodes from the seed: the same every time, another for another entry", () => {
    const ids = fleetIds(100);
    const a = selectNodes("10%", ids, "s", 0);
    expect(a).toHaveLength(10);
    expect(selectNodes("10%", ids, "s", 0)).toEqual(a);
    expect(selectNodes("10%", ids, "s", 1)).not.toEqual(a);
    expect(selectNodes(3, ids, "s", 0)).toHaveLength(3);
    expect(selectNodes("all", ids, "s", 0)).toEqual(ids);
    expect(selectNodes([NodeId("n-0042")], ids, "s", 0)).toEqual(["n-0042"]);
  });
});

/** A fleet that records what the runner did to it, with a broker that takes 100 ms to die. */
function recorder(sched: FakeScheduler) {
  const log: string[] = [];
  let loss = 0;
  const at = () => sched.now();
  const later = (ms: number) => new Promise<void>((r) => sched.at(sched.now() + ms, r));
  const targets: FaultTargets = {
    ids: fleetIds(20),
    seed: "t",
    killBroker: async () => {
      await later(100);
      log.push(`${at()} broker killed`);
    },
    startBroker: async () => {
      log.push(`${at()} broker started`);
    },
    power: (ids: readonly NodeId[], on: boolean) =>
      log.push(`${at()} power ${on ? "on" : "off"} ${ids.length}`),
    cables: (ids: readonly NodeId[], pulled: boolean) =>
      log.push(`${at()} cables ${pulled ? "pulled" : "in"} ${ids.join(",")}`),
    lossPct: () => loss,
    setLoss: (pct: number) => {
      loss = pct;
      log.push(`${at()} loss ${pct}`);
    },
    killTwins: async () => {
      log.push(`${at()} twins killed`);
    },
    startTwins: async () => {
      throw new Error("store is corrupt");
    },
    freezeClient: async () => {
      log.push(`${at()} frozen`);
      return () => 1234;
    },
  };
  return { log, targets };
}

/** Advances virtual time in steps, letting the runner's promises settle between them. */
async function advance(sched: FakeScheduler, until: number): Promise<void> {
  while (sched.now() < until) {
    sched.advance(50);
    for (let i = 0; i < 5; i++) await Promise.resolve();
  }
}

describe("FaultRunner", () => {
  it("runs a schedule from the press start and records each fault as it happened", async () => {
    const sched = new FakeScheduler();
    const { log, targets } = recorder(sched);
    const runner = new FaultRunner(sched, targets);
    const started: string[] = [];
    runner.on("start", (f) => started.push(f.kind));
    runner.schedule(
      [
        { kind: "broker-restart", atS: 1, downS: 2 },
        { kind: "partition", atS: 2, forS: 1, nodes: 2 },
        { kind: "loss", atS: 4, pct: 20, forS: 1 },
        { kind: "loss", atS: 6, pct: 10 },
        { kind: "twins-restart", atS: 7, downS: 1 },
        { kind: "frozen-client", atS: 8, forS: 1 },
      ],
      1000,
    );
    await advance(sched, 12_000);
    await runner.stop();
    const partitioned = selectNodes(2, targets.ids, "t", 1).join(",");
    expect(log).toEqual([
      "2100 broker killed",
      `3000 cables pulled ${partitioned}`,
      "4000 broker started",
      `4000 cables in ${partitioned}`,
      "5000 loss 20",
      "6000 loss 0",
      "7000 loss 10",
      "8000 twins killed",
      "9000 frozen",
    ]);
    expect(started).toEqual([
      "broker-restart",
      "partition",
      "loss",
      "loss",
      "twins-restart",
      "frozen-client",
    ]);
    const byKind = Object.fromEntries(runner.records.map((r) => [`${r.kind}${r.pct ?? ""}`, r]));
    expect(byKind["broker-restart"]).toMatchObject({ startMs: 2000, endMs: 4000, nodes: undefined });
    expect(byKind.partition).toMatchObject({ startMs: 3000, endMs: 4000 });
    expect(byKind.partition?.nodes).toHaveLength(2);
    expect(byKind.loss20).toMatchObject({ startMs: 5000, endMs: 6000, pct: 20 });
    expect(byKind.loss10).toMatchObject({ startMs: 7000, endMs: 7000, pct: 10 });
    expect(byKind["twins-restart"]).toMatchObject({ startMs: 8000, error: "store is corrupt" });
    expect(byKind["frozen-client"]).toMatchObject({
      startMs: 9000,
      endMs: 10_000,
      cutAtMs: 1234,
      frozenAtMs: 9000,
    });
    expect(runner.inProgress).toBe(0);
  });

  it("tells a frozen client still waiting for its broker that the fault's time is up", async () => {
    const sched = new FakeScheduler();
    const { targets } = recorder(sched);
    let toldAt: number | undefined;
    const waiting: FaultTargets = {
      ...targets,
      freezeClient: (_topic, ended) =>
        new Promise((_resolve, reject) =>
          ended.addEventListener("abort", () => {
            toldAt = sched.now();
            reject(new Error("the broker was not reachable"));
          }),
        ),
    };
    const runner = new FaultRunner(sched, waiting);
    runner.schedule([{ kind: "frozen-client", atS: 1, forS: 2 }], 0);
    await advance(sched, 5000);
    await runner.stop();
    expect(toldAt).toBe(3000);
    expect(runner.records).toEqual([
      expect.objectContaining({
        kind: "frozen-client",
        startMs: 1000,
        endMs: 3000,
        error: "the broker was not reachable",
      }),
    ]);
  });

  it("stop() ends the faults in progress: cables back in, nodes powered on", async () => {
    const sched = new FakeScheduler();
    const { log, targets } = recorder(sched);
    const runner = new FaultRunner(sched, targets);
    runner.schedule([{ kind: "power-outage", atS: 0, offS: 60, nodes: "all" }], 0);
    await advance(sched, 500);
    expect(runner.inProgress).toBe(1);
    await runner.stop();
    expect(log).toEqual(["0 power off 20", "500 power on 20"]);
    expect(runner.records).toHaveLength(1);
    expect(runner.records[0]?.nodes).toHaveLength(20);
  });

  it("keeps what overlapping faults hold until the last of them ends", async () => {
    const sched = new FakeScheduler();
    const { log, targets } = recorder(sched);
    targets.startTwins = async () => {
      log.push(`${sched.now()} twins started`);
    };
    const runner = new FaultRunner(sched, targets);
    const [a, b, c] = [NodeId("n-0001"), NodeId("n-0002"), NodeId("n-0003")];
    runner.schedule(
      [
        { kind: "partition", atS: 1, forS: 5, nodes: [a, b] },
        { kind: "partition", atS: 3, forS: 30, nodes: [b, c] },
        { kind: "broker-restart", atS: 2, downS: 4 },
        { kind: "broker-restart", atS: 4, downS: 6 },
        { kind: "power-outage", atS: 40, offS: 10, nodes: [a] },
        { kind: "power-outage", atS: 42, offS: 2, nodes: [a, b] },
        { kind: "twins-restart", atS: 41, downS: 1 },
        { kind: "twins-restart", atS: 41.5, downS: 3 },
      ],
      0,
    );
    await advance(sched, 60_000);
    await runner.stop();
    expect(log).toEqual([
      "1000 cables pulled n-0001,n-0002",
      "2100 broker killed",
      "3000 cables pulled n-0003",
      "6000 cables in n-0001",
      "10000 broker started",
      "33000 cables in n-0002,n-0003",
      "40000 power off 1",
      "41000 twins killed",
      "42000 power off 1",
      "44000 power on 1",
      "44500 twins started",
      "50000 power on 1",
    ]);
    expect(runner.records.every((r) => r.error === undefined)).toBe(true);
  });

  it("stacks loss bursts: the last begun sets the loss, each end goes back to the one under it", async () => {
    const sched = new FakeScheduler();
    const { log, targets } = recorder(sched);
    const runner = new FaultRunner(sched, targets);
    runner.schedule(
      [
        { kind: "loss", atS: 1, pct: 20, forS: 4 },
        { kind: "loss", atS: 3, pct: 30, forS: 7 },
        { kind: "loss", atS: 20, pct: 10, forS: 10 },
        { kind: "loss", atS: 25, pct: 10, forS: 10 },
        { kind: "loss", atS: 40, pct: 15, forS: 10 },
        { kind: "loss", atS: 45, pct: 5 },
      ],
      0,
    );
    await advance(sched, 60_000);
    await runner.stop();
    expect(log).toEqual([
      "1000 loss 20",
      "3000 loss 30",
      "10000 loss 0",
      "20000 loss 10",
      "25000 loss 10",
      "35000 loss 0",
      "40000 loss 15",
      // A step during a burst stays when the burst ends.
      "45000 loss 5",
    ]);
  });

  it("injects a fault now, outside the schedule", async () => {
    const sched = new FakeScheduler(30_000);
    const { log, targets } = recorder(sched);
    const runner = new FaultRunner(sched, targets);
    runner.inject({ kind: "power-outage", atS: 999, offS: 2, nodes: 5 });
    await advance(sched, 33_000);
    expect(log).toEqual(["30000 power off 5", "32000 power on 5"]);
    // Every node it hit must register again, connected when the power went or not.
    expect(runner.records[0]).toMatchObject({ startMs: 30_000, endMs: 32_000, reregisterAll: true });
  });
});
