// The faults part of a sweep scenario: its errors naming the field, the quick form's scaled times, and
// a sweep of a tiny fleet with two fault cases whose JSON, CSV and HTML carry every part.
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { progressLine, summary } from "../../cli/commands/sweep.js";
import { writeSweep } from "../files.js";
import { adjustScenario, loadScenario, parseScenario, type Scenario } from "../scenario.js";
import { runSweep, type SweepProgress } from "../sweep.js";

const fleet = {
  nodes: 4,
  seconds: 2,
  topology: "pairs",
  groupSize: 2,
  ratePerNodePerMin: 120,
  profile: "ideal",
  seed: "faults-test",
  settleS: 0.5,
};

function errorOf(json: unknown): string {
  try {
    parseScenario(json, "x.json");
  } catch (e) {
    return (e as Error).message;
  }
  return "no error";
}

describe("the faults part of a scenario", () => {
  const bad = (faults: unknown) => errorOf({ name: "t", fleet, faults });

  it("errors name the case and the field", () => {
    expect(bad({ cases: [{ name: "a", schedule: "meteor@1" }] })).toMatch(
      /faults\.cases\.0\.schedule: "meteor@1" is not a preset; presets: broker-restart, /,
    );
    expect(bad({ cases: [{ name: "a", schedule: [{ kind: "broker-restart", atS: 1, downS: 0 }] }] })).toMatch(
      /faults\.cases\.0\.schedule: \[0\]\.downS must be above 0/,
    );
    expect(bad({ cases: [{ name: "a", schedule: "broker-restart@2" }] })).toMatch(
      /faults\.cases\.0\.schedule: \[0\] \(broker-restart\) starts at 2 s, when the presses have ended \(fleet\.seconds is 2\)/,
    );
    expect(
      bad({
        cases: [{ name: "a", schedule: [{ kind: "partition", atS: 1, forS: 1, nodes: ["n-0009"] }] }],
      }),
    ).toMatch(/faults\.cases\.0\.schedule: \[0\]\.nodes: n-0009 not in this fleet/);
    expect(bad({ cases: [{ name: "a", schedule: 5 }] })).toMatch(
      /faults\.cases\.0\.schedule: must be presets like "broker-restart@5" or a list of fault entries/,
    );
    expect(bad({ cases: [{ name: "a", schedule: "twins-restart@1", brokerData: true }] })).toMatch(
      /faults\.cases\.0\.brokerData: keeps the broker's store across a broker-restart/,
    );
    const twice = { name: "a", schedule: "twins-restart@1" };
    expect(bad({ cases: [twice, twice] })).toMatch(/faults\.cases\.1\.name: repeats a/);
    expect(bad({ cases: [] })).toMatch(/faults\.cases: Too small/);
    expect(bad({ lossPct: 95, cases: [twice] })).toMatch(/faults\.lossPct:/);
    expect(bad({ cases: [{ ...twice, extra: 1 }] })).toMatch(/faults\.cases\.0: .*extra/);
    expect(errorOf({ name: "t", fleet })).toMatch(/needs at least one of loss, cpu, settings, faults/);
  });

  it("the shipped faults scenario fits the paper's fleet, and --quick scales its times to 5 s", () => {
    const s = loadScenario("faults");
    expect(s.fleet).toMatchObject({ nodes: 80, topology: "pairs", profile: "uno-w5100" });
    expect(s.faults?.cases).toHaveLength(6);
    const q = adjustScenario(s, { quick: true });
    expect(q.fleet).toMatchObject({ nodes: 20, seconds: 5 });
    expect(q.faults?.cases.map((c) => c.name)).toEqual(s.faults?.cases.map((c) => c.name));
    for (const c of q.faults?.cases ?? []) {
      expect(Array.isArray(c.schedule)).toBe(true);
      for (const e of c.schedule as { atS: number }[]) expect(e.atS).toBeLessThan(5);
    }
  });
});

describe("a sweep with fault cases", () => {
  it("runs each case as a fleet run and writes its faults to the JSON, the CSV and the page", async () => {
    const scenario: Scenario = parseScenario(
      {
        name: "tiny",
        fleet,
        faults: {
          cases: [
            {
              name: "broker restart",
              schedule: [{ kind: "broker-restart", atS: 0.5, downS: 0.5 }],
              brokerData: true,
            },
            { name: "twins restart", schedule: "twins-restart@0.5" },
          ],
        },
      },
      "tiny",
    );
    const stores = () => readdirSync(tmpdir()).filter((f) => f.startsWith("twinfleet-sweep-broker-"));
    const before = stores();
    const progress: SweepProgress[] = [];
    const r = await runSweep([scenario], { quick: true, workers: 1, onPoint: (p) => progress.push(p) });
    expect(progress.map((p) => p.label)).toEqual([
      "tiny: fault case broker restart",
      "tiny: fault case twins restart",
    ]);
    expect(progress[0]?.etaS).toBeGreaterThan(0);
    expect(progressLine(progress[0] as SweepProgress)).toMatch(/recovery .*lost for good 0.* — pass/);
    expect(stores()).toEqual(before); // the durable store's directory is gone

    const cases = r.scenarios[0]?.faults?.cases ?? [];
    expect(cases.map((c) => c.name)).toEqual(["broker restart", "twins restart"]);
    const [restart, twins] = cases;
    expect(restart?.broker).toEqual({ kind: "process", durable: true });
    expect(twins?.broker).toEqual({ kind: "embedded", durable: false });
    expect(restart?.faults[0]).toMatchObject({ kind: "broker-restart", nodes: 4, disconnected: 4 });
    expect(twins?.faults[0]).toMatchObject({ kind: "twins-restart", disconnected: 0 });
    for (const c of cases) {
      expect(c).toMatchObject({ lostForGood: 0, regressions: 0, diverged: 0, meetsGoal: true });
      expect(c.faults[0]?.recoveryMs).not.toBeNull();
      expect(c.presses).toBeGreaterThan(0);
    }
    expect(summary(r)).toMatch(/tiny: fault case[\s\S]*broker restart[\s\S]*meets the requirement/);

    const dir = mkdtempSync(join(tmpdir(), "sweep-faults-"));
    writeSweep(dir, r);
    const json = JSON.parse(readFileSync(join(dir, "report.json"), "utf8"));
    const c0 = json.scenarios[0].faults.cases[0];
    for (const key of [
      "name",
      "schedule",
      "described",
      "broker",
      "faults",
      "syncOutsideFaults",
      "late",
      "lostForGood",
      "lostOutsideFaults",
      "regressions",
      "regressionList",
      "diverged",
      "requirements",
      "meetsGoal",
      "sync",
      "sim",
    ]) {
      expect(c0).toHaveProperty(key);
    }
    for (const key of [
      "kind",
      "atMs",
      "durationMs",
      "nodes",
      "recoveryMs",
      "disconnected",
      "reregisteredMaxMs",
      "offlineDetectedMaxMs",
      "pressesDuring",
      "lateBeyond5s",
      "lostForGood",
    ]) {
      expect(c0.faults[0]).toHaveProperty(key);
    }
    const csv = readFileSync(join(dir, "faults.csv"), "utf8").trim().split("\n");
    expect(csv).toHaveLength(3);
    expect(csv[0]).toMatch(/^scenario,case,broker,brokerDurable,lossPct,fault,atMs,/);
    expect(csv[1]).toMatch(/^tiny,broker restart,process,true,0,broker-restart,/);
    const html = readFileSync(join(dir, "report.html"), "utf8");
    for (const part of [
      "Faults — recovery",
      "<h4>broker restart</h4>",
      "<h4>twins restart</h4>",
      "re-registration max",
      "later than 5 s",
      "lost for good",
      "sync p99 outside the fault windows",
      "requirement: sync &lt; 1 s, 0 lost",
      "fault case twins restart",
    ]) {
      expect(html).toContain(part);
    }
    expect(html).not.toMatch(/<td class="bad">fail<\/td>/);
  }, 60_000);
});
