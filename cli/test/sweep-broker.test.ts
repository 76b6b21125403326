/**
 * A sweep on someone else's broker (`twinfleet sweep --broker URL`): every fleet point runs its nodes
 * through that broker, the report says which, and a point during which the broker was lost is marked
 * (its figures include the outage): in the point, the progress line, the summary, the CSV and the page.
 */
import mqtt from "mqtt";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentialsPolicy, hashPassword, startBroker } from "../../broker/index.js";
import { type BrokerHost, openBrokerHost } from "../../fleet/broker-host.js";
import { RealScheduler } from "../../node/scheduler.js";
import { PAPER_CPU } from "../../sweep/cpu.js";
import { externalCaseProblem } from "../../sweep/fault-cases.js";
import { lossCsv } from "../../sweep/files.js";
import { renderHtml } from "../../sweep/html.js";
import type { PointResult } from "../../sweep/point.js";
import { parseScenario } from "../../sweep/scenario.js";
import { LIMITS, runSweep, type SweepProgress } from "../../sweep/sweep.js";
import { progressLine, summary } from "../commands/sweep-run.js";
import { notRegisteredWhy } from "../sim-summary.js";

let broker: BrokerHost;

beforeAll(async () => {
  broker = await openBrokerHost({ logger: pino({ level: "silent" }), scheduler: new RealScheduler() });
});

afterAll(async () => {
  await broker.close();
});

const tiny = parseScenario(
  {
    name: "tiny",
    fleet: {
      nodes: 4,
      seconds: 3,
      topology: "pairs",
      groupSize: 2,
      ratePerNodePerMin: 120,
      profile: "ideal",
      seed: "external",
      settleS: 0.5,
    },
    loss: { levelsPct: [0, 5] },
  },
  "tiny",
);

describe("a sweep on someone else's broker", () => {
  it("runs every point through it, and marks the point during which it was lost", async () => {
    // A client of the broker's: the first report it sees (the first point's presses) takes the
    // broker down for a second, once.
    const spy = await mqtt.connectAsync(broker.url, { reconnectPeriod: 200 });
    let reports = 0;
    spy.on("message", () => {
      reports += 1;
      if (reports === 1) void broker.kill().then(() => setTimeout(() => void broker.start(), 1000));
    });
    await spy.subscribeAsync("tf/report/+", { qos: 0 });
    const progress: SweepProgress[] = [];
    try {
      const r = await runSweep([tiny], {
        quick: false,
        broker: broker.url,
        onPoint: (p) => progress.push(p),
      });
      expect(r.broker).toBe(broker.url);
      const [p0, p5] = r.scenarios[0]?.loss ?? [];
      expect(p0?.brokerLost?.times).toBeGreaterThanOrEqual(1);
      expect(p0?.brokerLost?.s).toBeGreaterThan(0.5);
      expect(p5?.brokerLost).toBeUndefined();
      expect(p5?.registration.registered).toBe(4);
      expect(reports).toBeGreaterThan(10);
      expect(progressLine(progress[0] as SweepProgress)).toMatch(/, BROKER LOST \d+\.\d s — /);
      expect(progressLine(progress[1] as SweepProgress)).not.toMatch(/BROKER LOST/);
      const text = summary(r);
      expect(text).toContain(`every fleet point on ${broker.url}: its delay is in the figures`);
      expect(text).toMatch(/ {4}0% .* (yes|NO) {2,3}BROKER LOST \d+\.\d s\n/);
      const csv = lossCsv(r).trim().split("\n");
      expect(csv[0]?.endsWith(",brokerLostS,disturbed")).toBe(true);
      expect(Number(csv[1]?.split(",").at(-2))).toBe(p0?.brokerLost?.s);
      expect(csv[2]?.endsWith(",0,")).toBe(true);
      const page = renderHtml(r);
      expect(page).toContain(`broker ${broker.url}`);
      expect(page).toContain("The broker was lost during some points");
    } finally {
      await spy.endAsync(true);
    }
  }, 120_000);

  it("logs the twins service and tools in as a control user and each node as itself", async () => {
    const pw = await hashPassword("node-pw");
    const nodes = Object.fromEntries(
      ["n-0000", "n-0001", "n-0002", "n-0003"].map((id) => [
        id,
        { role: "node" as const, nodeId: id, password: pw },
      ]),
    );
    const auth = credentialsPolicy({
      users: { ctl: { role: "control", password: await hashPassword("ctl-pw") }, ...nodes },
    });
    const guarded = await startBroker({ host: "127.0.0.1", port: 0, auth });
    try {
      const one = { ...tiny, loss: { levelsPct: [0] } };
      const r = await runSweep([one], {
        quick: false,
        broker: guarded.url,
        login: { username: "ctl", password: "ctl-pw" },
        nodePassword: "node-pw",
      });
      const p = r.scenarios[0]?.loss?.[0];
      expect(p?.registration).toMatchObject({ registered: 4, nodes: 4 });
      expect(p?.registration.notRegistered).toBeUndefined();
      expect(p?.presses).toBeGreaterThan(0);
      expect(p?.lost).toBe(0);
    } finally {
      await guarded.close();
    }
  }, 120_000);

  it("says which nodes never registered, and why, on the point's line and the summary's row", () => {
    const p0 = { lossPct: 0, ...fakePoint(), registration: { registered: 0, nodes: 4, p50Ms: 0, maxMs: 0 } };
    const nr = { nodes: 4, first: [], lastConnectFailure: { refused: 4 } } as const;
    const point = { ...p0, registration: { ...p0.registration, notRegistered: nr } };
    const line = progressLine({ index: 1, total: 1, label: "tiny: 0% loss", elapsedS: 40, etaS: 0, point });
    expect(line).toContain(
      ", 4 of 4 NOT REGISTERED: 4 were refused by the broker (a CONNACK with an error code",
    );
    // An answer connect() cannot read as a CONNACK has words of its own, not the refusal's.
    const odd = { nodes: 2, first: [], lastConnectFailure: { "bad-connack": 2 } } as const;
    expect(notRegisteredWhy(odd)).toMatch(
      /^2 had an answer to their CONNECT that is no CONNACK a board can read/,
    );
    const r = {
      kind: "twinfleet-sweep",
      quick: false,
      startedAt: "",
      wallS: 40,
      limits: LIMITS,
      paperCpu: PAPER_CPU,
      allKeptUp: true,
      scenarios: [{ name: "tiny", fleet: tiny.fleet, loss: [point] }],
    } as const;
    expect(summary(r)).toMatch(/ {4}0% .* yes {3}4 NOT REGISTERED\n/);
  });

  it("refuses what needs the sweep's own broker or virtual time", async () => {
    const restart = parseScenario(
      {
        ...tiny,
        loss: undefined,
        faults: { cases: [{ name: "restart", schedule: "broker-restart@1" }] },
      },
      "restart",
    );
    const c = restart.faults?.cases[0];
    expect(c && externalCaseProblem(c)).toMatch(/^broker-restart needs a broker the sweep starts itself/);
    await expect(runSweep([restart], { quick: false, broker: broker.url })).rejects.toThrow(
      "scenario tiny, fault case restart: broker-restart needs a broker the sweep starts itself (leave out --broker)",
    );
    await expect(runSweep([tiny], { quick: false, broker: broker.url, clock: "virtual" })).rejects.toThrow(
      "someone else's broker needs real time",
    );
  });
});

/** A point's figures but its loss level and registration, all at rest. */
function fakePoint(): Omit<PointResult, "lossPct" | "registration"> {
  const pct = { count: 0, p5: 0, p25: 0, p50: 0, p75: 0, p90: 0, p95: 0, p99: 0, max: 0, mean: 0 };
  return {
    echo: pct,
    echoLate: 0,
    sync: pct,
    presses: 0,
    deliveries: 0,
    lost: 0,
    diverged: 0,
    cpuMeanPct: 0,
    cpuMaxPct: 0,
    link: { segments: 0, retransmissions: 0, timeouts: 0, reconnects: 0 },
    sim: { keptUp: true, lagP99Ms: 0, wallS: 40 },
  };
}
