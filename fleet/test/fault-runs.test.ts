// Each fault kind on a small fleet with known answers: nothing lost for good, no regression, nothing
// diverged, and what the report says the fault did. What a virtual run carries out (a broker restart
// in memory, a power outage, a partition, a loss burst) runs on virtual time; a broker in its own
// process, a twins restart and a frozen client need real time and real sockets. The runs go side by
// side (each has its own broker and twins service): the real-time ones mostly wait on their clock.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { NodeId } from "../../protocol/index.js";
import type { FaultEntry } from "../faults/schedule.js";
import type { FleetOptions } from "../options.js";
import type { Report } from "../report.js";
import { FleetRun } from "../run.js";

function waitPhase(run: FleetRun, phase: string): Promise<void> {
  return new Promise((resolve) => {
    if (run.phase === phase) resolve();
    else run.on("phase", (p) => p === phase && resolve());
  });
}

function waitFault(run: FleetRun, what: "fault-start" | "fault-end", kind: string): Promise<void> {
  return new Promise((resolve) => run.on(what, (f) => f.kind === kind && resolve()));
}

/** Rechecks `cond` every 50 ms of the run's own clock (virtual time on a virtual run). */
async function until(run: FleetRun, what: string, cond: () => boolean, ms = 45_000): Promise<void> {
  const end = run.sched.now() + ms;
  while (!cond()) {
    if (run.sched.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise<void>((r) => run.sched.at(run.sched.now() + 50, r));
  }
}

/**
 * Every node is synced and registered with the twins after `since`. A node whose reconnect hits the
 * broker as it dies sits 15 s in PubSubClient's CONNACK wait, as a real board would: wait for events,
 * not for a fixed time.
 */
function allBack(run: FleetRun, since: number): Promise<void> {
  const regs = run.collector.timeline.registrations;
  return until(run, "every node is back", () =>
    run.ids.every((id) => run.collector.synced.has(id) && (regs.get(id) ?? []).some((t) => t >= since)),
  );
}

/**
 * The checker has seen `presses` presses (events reach it in batches, through a reorder window), and
 * each has reached (or missed for good) every follower.
 */
function allDelivered(run: FleetRun, presses: number): Promise<void> {
  return until(run, `${presses} presses are delivered`, () => {
    const c = run.collector.checker.counts();
    return c.presses >= presses && c.pending === 0 && c.lost === c.late + c.lostForGood;
  });
}

/** A scripted run with faults: no random presses; `script` acts once the presses may start. */
async function withFaults(
  raw: FleetOptions,
  faults: FaultEntry[],
  script: (run: FleetRun) => Promise<void>,
): Promise<Report> {
  const opts: FleetOptions = {
    ratePerNodePerMin: 0,
    durationS: 30,
    settleS: 1,
    profile: "ideal",
    ...(raw.clock === "virtual" ? {} : { workers: 1 }), // a virtual run has no worker threads
    ...raw,
  };
  const run = await FleetRun.start({ ...opts, faults, faultsSpec: "test" });
  await waitPhase(run, "press");
  await script(run);
  run.stop();
  return run.done;
}

/** The guarantees every fault run must keep. */
function expectNothingLost(r: Report): void {
  expect(r).toMatchObject({ lostForGood: 0, regressions: 0, diverged: 0 });
  const n = r.scenario.nodes;
  // On either clock the run's twins service confirmed every node's pairing after the faults.
  expect(r.twinsView).toEqual({ known: n, online: n, desiredAsPaired: n, pairingConfirmed: n });
  expect(r.faults.every((f) => f.error === undefined)).toBe(true);
}

describe.concurrent("fault runs", () => {
  it("a broker restart in memory, then a power outage: pairings and states come back", async () => {
    const faults: FaultEntry[] = [{ kind: "broker-restart", atS: 0.5, downS: 1 }];
    const r = await withFaults(
      { nodes: 4, topology: "pairs", groupSize: 2, clock: "virtual" },
      faults,
      async (run) => {
        run.press(NodeId("n-0000"));
        await waitFault(run, "fault-end", "broker-restart");
        // The nodes reconnect (1 s period), sync and put back what the broker lost.
        await allBack(run, run.sched.now());
        run.press(NodeId("n-0002"));
        await allDelivered(run, 2);
        const outage = waitFault(run, "fault-end", "power-outage");
        run.injectFault({ kind: "power-outage", atS: 0, offS: 1, nodes: "all" });
        await outage;
        await allBack(run, run.sched.now());
        // After the outage the nodes know whom they follow only from the broker's retained configs.
        run.press(NodeId("n-0001"));
        run.press(NodeId("n-0003"));
        await allDelivered(run, 4);
      },
    );
    expectNothingLost(r);
    expect(r.presses).toBe(4);
    expect(r.deliveries).toBe(4);
    const [restart, outage] = r.faults;
    expect(restart).toMatchObject({ kind: "broker-restart", nodes: 4, disconnected: 4 });
    expect(restart?.recoveryMs).not.toBeNull();
    expect(restart?.recoveryMs).toBeLessThan(1000 + 3000); // reconnect period + 3 s
    expect(outage).toMatchObject({ kind: "power-outage", nodes: 4, disconnected: 4 });
    expect(outage?.reregisteredMaxMs).toBeLessThan(30_000);
    expect(r.syncOutsideFaults?.p99Ms).toBeLessThan(1000);
    // Every node lost its session twice (the restart, the outage); the power going at the run's end is not counted.
    expect(r.link.disconnects).toBe(8);
    // The twins service saw the restart as an outage of the broker, and it back.
    expect(r.brokerOutages).toHaveLength(1);
    expect(r.brokerOutages?.[0]).toMatchObject({ back: true, disconnected: 4, lostForGood: 0 });
    // Back empty (in memory): the twins service put back the reports it no longer held, and the report says so.
    expect(r.brokerOutages?.[0]?.retainedLost).toBe(4);
  }, 60_000);

  it("a broker in its own process with a durable store: kill -9, respawned on the same port and store", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tf-fault-broker-"));
    const faults: FaultEntry[] = [{ kind: "broker-restart", atS: 0.5, downS: 1 }];
    try {
      const r = await withFaults(
        { nodes: 4, topology: "ring", groupSize: 4, brokerProcess: true, brokerData: dir },
        faults,
        async (run) => {
          const url = run.brokerUrl;
          run.press(NodeId("n-0000"));
          await waitFault(run, "fault-start", "broker-restart");
          run.press(NodeId("n-0002")); // held while the broker is down, published at the sync
          await waitFault(run, "fault-end", "broker-restart");
          expect(run.brokerUrl).toBe(url);
          await allBack(run, run.sched.now());
          run.press(NodeId("n-0001"));
          await allDelivered(run, 3);
        },
      );
      expectNothingLost(r);
      expect(r.scenario).toMatchObject({ brokerKind: "process", brokerDurable: true });
      expect(r.presses).toBe(3);
      expect(r.deliveries + r.late).toBe(9);
      expect(r.faults[0]).toMatchObject({ kind: "broker-restart", disconnected: 4 });
      expect(r.faults[0]?.recoveryMs).not.toBeNull();
      expect(r.sim.brokerRssMaxMB).toBeGreaterThan(10);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // 22 s on a quiet host; each broker process start (two here) took over 20 s on a loaded one.
  }, 150_000);

  it("a partition: the cut-off node's presses reach its follower after it, late but not lost", async () => {
    const faults: FaultEntry[] = [{ kind: "partition", atS: 0.2, forS: 7, nodes: [NodeId("n-0001")] }];
    const r = await withFaults(
      { nodes: 2, topology: "pairs", groupSize: 2, profile: "uno-w5100", clock: "virtual" },
      faults,
      async (run) => {
        await waitFault(run, "fault-start", "partition");
        run.press(NodeId("n-0001")); // held in the W5100's retransmissions while the cable is out
        await waitFault(run, "fault-end", "partition");
        await allDelivered(run, 1);
      },
    );
    expectNothingLost(r);
    expect(r.presses).toBe(1);
    expect(r.late).toBe(1);
    expect(r.faults[0]).toMatchObject({ kind: "partition", nodes: 1, lateBeyond5s: 1, lostForGood: 0 });
    expect(r.faults[0]?.recoveryMs).not.toBeNull();
    expect(r.requirements.nothingLost).toBe(true);
  }, 60_000);

  it("a partition past the broker's keepalive: the cut-off node ends its session by its own keepalive", async () => {
    const cutOff = NodeId("n-0001");
    const faults: FaultEntry[] = [{ kind: "partition", atS: 0.2, forS: 40, nodes: [cutOff] }];
    let startMs = 0;
    let cuts: number[] = [];
    const r = await withFaults(
      { nodes: 2, topology: "pairs", groupSize: 2, profile: "uno-w5100", clock: "virtual", durationS: 60 },
      faults,
      async (run) => {
        await waitFault(run, "fault-start", "partition");
        startMs = run.sched.now();
        await waitFault(run, "fault-end", "partition");
        const since = run.sched.now();
        const regs = run.collector.timeline.registrations;
        await until(run, "the cut-off node is back", () =>
          (regs.get(cutOff) ?? []).some((t) => t >= since && run.collector.synced.has(cutOff)),
        );
        cuts = [...(run.collector.timeline.disconnects.get(cutOff) ?? [])];
      },
    );
    expectNothingLost(r);
    // The broker closed the silent connection after 1.5 × 15 s and the twins showed the node offline;
    // its FIN could not cross the pulled cable, so the node ended the session when its own ping went
    // unanswered (15 s without a packet, then 15 s more), as a board does.
    const offline = r.faults[0]?.offlineDetectedMaxMs ?? 0;
    expect(offline).toBeGreaterThan(22_000);
    expect(offline).toBeLessThan(24_000);
    expect(r.link).toMatchObject({ disconnects: 1, keepaliveTimeouts: 1, closedByBroker: 0, reconnects: 1 });
    expect(cuts).toHaveLength(1);
    expect((cuts[0] ?? 0) - startMs).toBeGreaterThan(offline + 5_000);
  }, 60_000);

  it("a twins restart: the new service knows every node, its state and pairing again", async () => {
    const faults: FaultEntry[] = [{ kind: "twins-restart", atS: 0.5, downS: 1 }];
    let listed = 0;
    let paired = 0;
    const r = await withFaults({ nodes: 6, topology: "ring", groupSize: 3 }, faults, async (run) => {
      // Every node registers with the new service after the old one is killed: while the new one
      // connects (its retained messages, its query's answers) or after.
      let killedAt = Number.POSITIVE_INFINITY;
      run.on("fault-start", (f) => {
        if (f.kind === "twins-restart") killedAt = run.sched.now();
      });
      run.press(NodeId("n-0000"));
      await waitFault(run, "fault-end", "twins-restart");
      await allBack(run, killedAt);
      const twins = run.twins.list().filter((t) => t.id.startsWith("n-"));
      listed = twins.filter((t) => t.reported !== undefined && t.presence === "online").length;
      paired = twins.filter((t) => t.desired.sources.length === 1 && t.pairingInSync).length;
      run.press(NodeId("n-0004"));
      await allDelivered(run, 2);
    });
    expectNothingLost(r);
    expect(listed).toBe(6);
    expect(paired).toBe(6);
    expect(r.twinsView).toEqual({ known: 6, online: 6, desiredAsPaired: 6, pairingConfirmed: 6 });
    expect(r.faults[0]).toMatchObject({ kind: "twins-restart", disconnected: 0 });
    // Killing the twins service is not an outage of the broker.
    expect(r.brokerOutages).toBeUndefined();
    expect(r.faults[0]?.recoveryMs).not.toBeNull();
    expect(r.faults[0]?.recoveryMs).toBeLessThan(5000);
  }, 60_000);

  it("a twins service started again while the broker is down waits for it, and the fleet recovers", async () => {
    // The service is back at 1.5 s, the broker at 3.5 s: a service unit restarted then would wait.
    const faults: FaultEntry[] = [
      { kind: "broker-restart", atS: 0.5, downS: 3 },
      { kind: "twins-restart", atS: 1, downS: 0.5 },
    ];
    const r = await withFaults({ nodes: 4, topology: "ring", groupSize: 4 }, faults, async (run) => {
      let killedAt = Number.POSITIVE_INFINITY;
      run.on("fault-start", (f) => {
        if (f.kind === "twins-restart") killedAt = run.sched.now();
      });
      await waitFault(run, "fault-end", "broker-restart");
      await allBack(run, killedAt);
      run.press(NodeId("n-0002"));
      await allDelivered(run, 1);
    });
    expectNothingLost(r);
    const twins = r.faults.find((f) => f.kind === "twins-restart");
    expect(twins?.error).toBeUndefined();
    expect(twins?.recoveryMs).not.toBeNull();
    expect(r.twinsView).toEqual({ known: 4, online: 4, desiredAsPaired: 4, pairingConfirmed: 4 });
  }, 60_000);

  it("a loss burst leaves nothing lost and the loss back where it was", async () => {
    const faults: FaultEntry[] = [{ kind: "loss", atS: 0.5, pct: 30, forS: 2 }];
    const r = await withFaults(
      { nodes: 4, topology: "ring", groupSize: 4, profile: "uno-w5100", clock: "virtual" },
      faults,
      async (run) => {
        await waitFault(run, "fault-start", "loss");
        expect(run.lossPct).toBe(30);
        run.press(NodeId("n-0000"));
        await waitFault(run, "fault-end", "loss");
        expect(run.lossPct).toBe(0);
        run.press(NodeId("n-0001"));
        await allDelivered(run, 2);
      },
    );
    expectNothingLost(r);
    expect(r.presses).toBe(2);
    expect(r.faults[0]).toMatchObject({ kind: "loss", pct: 30 });
  }, 60_000);

  it("a frozen client leaves nothing lost and is reported", async () => {
    const faults: FaultEntry[] = [{ kind: "frozen-client", atS: 0.2, forS: 3 }];
    const r = await withFaults({ nodes: 4, topology: "ring", groupSize: 4 }, faults, async (run) => {
      await waitFault(run, "fault-end", "frozen-client");
      run.press(NodeId("n-0001"));
      await allDelivered(run, 1);
    });
    expectNothingLost(r);
    expect(r.faults[0]).toMatchObject({ kind: "frozen-client", cutAfterMs: null });
  }, 60_000);

  it("a frozen client due while the broker is down waits for it, then freezes", async () => {
    const faults: FaultEntry[] = [
      { kind: "broker-restart", atS: 0.2, downS: 3 },
      { kind: "frozen-client", atS: 0.5, forS: 8 },
    ];
    const r = await withFaults({ nodes: 4, topology: "ring", groupSize: 4 }, faults, async (run) => {
      const frozenEnd = waitFault(run, "fault-end", "frozen-client");
      await waitFault(run, "fault-end", "broker-restart");
      await allBack(run, run.sched.now());
      await frozenEnd;
      run.press(NodeId("n-0001"));
      await allDelivered(run, 1);
    });
    expectNothingLost(r);
    const frozen = r.faults.find((f) => f.kind === "frozen-client");
    // It was due 0.3 s into a 3 s outage: in place once its retry (every 1 s) found the broker back.
    expect(frozen?.frozenAfterMs).toBeGreaterThan(2_500);
    expect(frozen?.frozenAfterMs).toBeLessThan(6_000);
    expect(frozen?.cutAfterMs).toBeNull();
  }, 60_000);
});
