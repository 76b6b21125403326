// A sweep of a tiny fleet with two fault cases, as `twinfleet sweep` shows and writes it: the
// progress lines and the summary the command prints, and the JSON, CSV and HTML with every part.
import { mkdtempSync, readdirSync, readFileSync, rmSync, watch } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { writeSweep } from "../../sweep/files.js";
import { parseScenario, type Scenario } from "../../sweep/scenario.js";
import { runSweep, type SweepProgress } from "../../sweep/sweep.js";
import { progressLine, summary } from "../commands/sweep-run.js";

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
    // The durable store goes in a temporary directory of this test's own: another run of the tests on
    // the same host makes and removes its stores in the shared one meanwhile.
    const ownTmp = mkdtempSync(join(tmpdir(), "sweep-faults-tmp-"));
    onTestFinished(() => rmSync(ownTmp, { recursive: true, force: true }));
    const stores = () => readdirSync(ownTmp).filter((f) => f.startsWith("twinfleet-sweep-broker-"));
    const made = new Set<string>();
    const watcher = watch(ownTmp, (_, name) => {
      if (name?.startsWith("twinfleet-sweep-broker-")) made.add(name);
    });
    const progress: SweepProgress[] = [];
    const tmpEnv = process.env.TMPDIR;
    process.env.TMPDIR = ownTmp; // os.tmpdir() reads it on each call
    const r = await runSweep([scenario], {
      quick: true,
      workers: 1,
      onPoint: (p) => progress.push(p),
    }).finally(() => {
      watcher.close();
      if (tmpEnv === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = tmpEnv;
    });
    expect(progress.map((p) => p.label)).toEqual([
      "tiny: fault case broker restart",
      "tiny: fault case twins restart",
    ]);
    expect(progress[0]?.etaS).toBeGreaterThan(0);
    expect(progressLine(progress[0] as SweepProgress)).toMatch(/recovery .*lost for good 0.* — pass/);
    expect(made.size).toBe(1); // the broker restart case's durable store was made there…
    expect(stores()).toEqual([]); // …and is gone

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
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
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
    // Two 2 s runs, but 35 s on a quiet host (the broker process, restarts, recoveries) and 37 s
    // beside another test run: the time is not what is tested.
  }, 120_000);
});
