// The embedded broker in its own thread (fleet/broker-thread.ts): a node thread's in-memory port
// reaches it, kill() cuts that node and refuses it until start(); and small real-time fleets over the
// in-memory transport — one broker client per node, a broker restart, loss on the links — with every
// thread's lag in the report. The cases go side by side (each has its own broker thread and run):
// the fleets mostly wait on real time.
import { once } from "node:events";
import { generate } from "mqtt-packet";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { portWire } from "../../node/port-wire.js";
import type { Wire } from "../../node/wire.js";
import { NodeId } from "../../protocol/index.js";
import { BrokerThreadHost } from "../broker-thread.js";
import type { FaultEntry } from "../faults/schedule.js";
import { FleetRun } from "../run.js";
import { until as waitOn } from "./run-until.js";

/** Waits on the fleet's clock, 45 s at most. */
const until = (run: FleetRun, what: string, cond: () => boolean) => waitOn(run, what, cond, 45_000);

const connect = generate({
  cmd: "connect",
  clientId: "n-9",
  keepalive: 30,
  clean: true,
  protocolId: "MQTT",
  protocolVersion: 4,
});

/** Opens a wire and sends CONNECT: "connack", "refused" or "closed", and when the wire closes. */
function attempt(factory: ReturnType<typeof portWire>) {
  return new Promise<{ got: string; wire: Wire; closed: Promise<boolean> }>((resolve) => {
    let onClosed: (refused: boolean) => void = () => {};
    const closed = new Promise<boolean>((r) => {
      onClosed = r;
    });
    const wire: Wire = factory({
      packet: (p) => resolve({ got: p[0] === 0x20 ? "connack" : "other", wire, closed }),
      closed: (refused) => {
        onClosed(refused === true);
        resolve({ got: refused ? "refused" : "closed", wire, closed });
      },
    });
    wire.write(connect);
  });
}

function waitPhase(run: FleetRun, phase: string): Promise<void> {
  return new Promise((resolve) => {
    if (run.phase === phase) resolve();
    else run.on("phase", (p) => p === phase && resolve());
  });
}

function delivered(run: FleetRun, presses: number): Promise<void> {
  return until(run, `${presses} presses are delivered`, () => {
    const c = run.collector.checker.counts();
    return c.presses >= presses && c.pending === 0 && c.lost === c.late + c.lostForGood;
  });
}

describe.concurrent("the broker thread", () => {
  it("serves a node thread's port; kill() cuts it and refuses it until start() on the same port", async () => {
    const host = new BrokerThreadHost(undefined, pino({ level: "silent" }));
    try {
      await host.start();
      const url = host.url;
      const factory = portWire(host.link("in-process"));
      const first = await attempt(factory);
      expect(first.got).toBe("connack");
      // Stats and lag come from the thread by message.
      while (host.stats().clients < 1)
        await once((host as unknown as { worker: NodeJS.EventEmitter }).worker, "message");
      expect(host.stats().clients).toBe(1);
      expect(host.lag()?.p99Ms).toBeGreaterThanOrEqual(0);
      expect(host.rssMB()).toBeGreaterThan(10);
      await host.kill();
      expect(await first.closed).toBe(false);
      expect((await attempt(factory)).got).toBe("refused");
      await host.start();
      expect(host.url).toBe(url);
      const again = await attempt(factory);
      expect(again.got).toBe("connack");
      again.wire.destroy();
    } finally {
      await host.close();
    }
  }, 30_000);

  it("a real-time fleet over in-memory ports: one client per node, a broker restart, every thread's lag", async () => {
    const faults: FaultEntry[] = [{ kind: "broker-restart", atS: 0.5, downS: 1 }];
    const run = await FleetRun.start({
      nodes: 8,
      topology: "ring",
      groupSize: 4,
      ratePerNodePerMin: 0,
      durationS: 30,
      settleS: 1,
      profile: "ideal",
      workers: 2,
      faults,
      faultsSpec: "test",
    });
    await waitPhase(run, "press");
    // Eight nodes and the twins service.
    await until(run, "the broker sees every node", () => run.brokerStats()?.clients === 9);
    run.press(NodeId("n-0000"));
    await new Promise<void>((resolve) =>
      run.on("fault-end", (f) => f.kind === "broker-restart" && resolve()),
    );
    await until(run, "every node is back", () => run.brokerStats()?.clients === 9);
    run.press(NodeId("n-0005"));
    await delivered(run, 2);
    run.stop();
    const r = await run.done;
    expect(r.scenario.brokerKind).toBe("embedded");
    expect(r).toMatchObject({ lostForGood: 0, regressions: 0, diverged: 0, presses: 2 });
    expect(r.faults[0]).toMatchObject({ kind: "broker-restart", disconnected: 8 });
    expect(Object.keys(r.sim.threads).sort()).toEqual(["broker", "main", "worker-0", "worker-1"]);
    expect(r.sim.brokerLagP99Ms).not.toBeNull();
    expect(r.sim.lagP99Ms).toBe(Math.max(...Object.values(r.sim.threads).map((l) => l.p99Ms)));
  }, 60_000);

  it("loss on the links still retransmits over the in-memory transport, and nothing is lost", async () => {
    const run = await FleetRun.start({
      nodes: 4,
      topology: "ring",
      groupSize: 4,
      ratePerNodePerMin: 0,
      durationS: 30,
      settleS: 1,
      profile: "uno-w5100",
      lossPct: 20,
      workers: 1,
    });
    await waitPhase(run, "press");
    for (const id of ["n-0000", "n-0001", "n-0002", "n-0003"]) run.press(NodeId(id));
    await delivered(run, 4);
    run.stop();
    const r = await run.done;
    expect(r.link.retransmissions).toBeGreaterThan(0);
    expect(r).toMatchObject({ lostForGood: 0, regressions: 0, diverged: 0, presses: 4 });
  }, 60_000);
});
