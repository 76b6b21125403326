/**
 * A sweep on someone else's broker (`twinfleet sweep --broker URL`): every fleet point runs its nodes
 * through that broker, the report says which, and a point during which the broker was lost is marked
 * (its figures include the outage): in the point, the progress line, the summary, the CSV and the page.
 */
import mqtt from "mqtt";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrokerHost, openBrokerHost } from "../../fleet/broker-host.js";
import { RealScheduler } from "../../node/scheduler.js";
import { externalCaseProblem } from "../../sweep/fault-cases.js";
import { lossCsv } from "../../sweep/files.js";
import { renderHtml } from "../../sweep/html.js";
import { parseScenario } from "../../sweep/scenario.js";
import { runSweep, type SweepProgress } from "../../sweep/sweep.js";
import { progressLine, summary } from "../commands/sweep-run.js";

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
      expect(text).toMatch(/ {4}0% .* yes {3}BROKER LOST \d+\.\d s\n/);
      const csv = lossCsv(r).trim().split("\n");
      expect(csv[0]?.endsWith(",brokerLostS")).toBe(true);
      expect(Number(csv[1]?.split(",").at(-1))).toBe(p0?.brokerLost?.s);
      expect(csv[2]?.endsWith(",0")).toBe(true);
      const page = renderHtml(r);
      expect(page).toContain(`broker ${broker.url}`);
      expect(page).toContain("The broker was lost during some points");
    } finally {
      await spy.endAsync(true);
    }
  }, 120_000);

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
