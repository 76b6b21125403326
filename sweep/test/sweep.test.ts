// The sweep: scenario files and their errors, profile overrides, the CPU cases in fake time, and a
// reduced sweep on virtual fleet runs whose report must have every part and the trends that must hold.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { applyProfileOverrides } from "../../fleet/profile-overrides.js";
import { loadProfile } from "../../node/profile.js";
import { OptionError } from "../../protocol/index.js";
import { runCpuCase, runCpuTable } from "../cpu.js";
import { writeSweep } from "../files.js";
import { pointSeconds } from "../point.js";
import { adjustScenario, loadScenario, parseScenario, type Scenario, ScenarioError } from "../scenario.js";
import { runSweep } from "../sweep.js";

const paper = loadScenario("paper");

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  return "no error";
}

describe("scenario files", () => {
  it("the shipped scenarios load and the quick form keeps their shape at a smaller size", () => {
    const settings = loadScenario("settings");
    expect(paper.loss?.levelsPct).toEqual([0, 5, 10, 15, 20, 25]);
    expect(paper.cpu?.lossPct).toEqual([0, 25]);
    expect(settings.settings?.variants[0]?.name).toBe("defaults");
    const q = adjustScenario(paper, { quick: true });
    expect(q.loss?.levelsPct).toEqual([0, 15, 25]);
    expect(q.fleet).toMatchObject({ nodes: 20, seconds: 5 });
    expect(adjustScenario(settings, { quick: true }).settings?.lossPct).toEqual([25]);
    expect(adjustScenario(paper, { nodes: 40, seconds: 7 }).fleet).toMatchObject({ nodes: 40, seconds: 7 });
  });

  it("errors name the bad field", () => {
    const base = JSON.parse(
      readFileSync(new URL("../../profiles/scenarios/paper.json", import.meta.url), "utf8"),
    );
    const bad = (patch: Record<string, unknown>) =>
      errorOf(() => parseScenario({ ...base, ...patch }, "x.json"));
    expect(bad({ fleet: { ...base.fleet, nodes: 1 } })).toMatch(/fleet\.nodes:/);
    expect(bad({ loss: { levelsPct: [0, 120] } })).toMatch(/loss\.levelsPct\.1:/);
    expect(bad({ extra: 1 })).toMatch(/\(root\).*extra/);
    expect(bad({ loss: undefined, cpu: undefined })).toMatch(/needs at least one of loss, cpu, settings/);
    const v = { name: "a", how: "x", overrides: {} };
    expect(bad({ settings: { lossPct: [15], variants: [v, v] } })).toMatch(
      /settings\.variants\.1\.name: repeats a/,
    );
    expect(errorOf(() => loadScenario("no-such-scenario"))).toMatch(
      /^no scenario "no-such-scenario": the scenarios are faults, paper, settings/,
    );
    expect(errorOf(() => loadScenario("/no/such.json"))).toBe("cannot read /no/such.json: no such file");
    expect(() => loadScenario("no-such-scenario")).toThrow(ScenarioError);
  });

  it("profile overrides are applied and validated as a profile, naming the field", () => {
    const uno = loadProfile("uno-w5100");
    const p = applyProfileOverrides(uno, { w5100: { rtrMs: 50, rcr: 15 }, mqtt: { keepaliveS: 5 } });
    expect(p.w5100).toMatchObject({ rtrMs: 50, rcr: 15 });
    expect(p.mqtt.keepaliveS).toBe(5);
    expect(uno.w5100.rtrMs).toBe(200);
    expect(errorOf(() => applyProfileOverrides(uno, { w5101: { rtrMs: 1 } }))).toMatch(
      /profileOverrides\.w5101: not a section/,
    );
    expect(errorOf(() => applyProfileOverrides(uno, { w5100: { rtr: 1 } }))).toMatch(
      /profileOverrides\.w5100\.rtr: not a number/,
    );
    expect(errorOf(() => applyProfileOverrides(uno, { w5100: { rcr: 2.5 } }))).toMatch(/w5100\.rcr\.value/);
    expect(() => applyProfileOverrides(uno, { mqtt: { keepaliveS: 0 } })).toThrow(OptionError);
  });
});

describe("the CPU cases", () => {
  const params = { minutes: 1, normalPressPerMin: 6, spamPressPerSec: 8, spamNotificationsPerSec: 20 };
  const uno = loadProfile("uno-w5100");

  it("are deterministic and ordered as the paper's: spam costs more than normal use", () => {
    const a = runCpuCase(uno, "spam press", 0, params, "t");
    expect(runCpuCase(uno, "spam press", 0, params, "t")).toEqual(a);
    const rows = runCpuTable(uno, [0, 25], params, "t");
    expect(rows.map((r) => `${r.case}@${r.lossPct}`)).toEqual([
      "normal press@0",
      "normal press@25",
      "spam press@0",
      "spam press@25",
      "spammed notifications@0",
      "spammed notifications@25",
    ]);
    const at = (k: string, l: number) => rows.find((r) => r.case === k && r.lossPct === l);
    expect(at("spam press", 0)?.utilizationPct).toBeGreaterThan(at("normal press", 0)?.utilizationPct ?? 1);
    expect(at("spammed notifications", 0)?.notifications).toBe(1200);
    // Loss makes the W5100's TX buffer wait for acknowledgements: the node answering a flood of
    // commands blocks, and costs more than without loss.
    const flood = (l: number) => at("spammed notifications", l);
    expect(flood(25)?.blockedCycles).toBeGreaterThan(0);
    expect(flood(25)?.utilizationPct).toBeGreaterThan(flood(0)?.utilizationPct ?? 100);
    for (const r of rows) {
      expect(r.withPollingPct).toBeGreaterThanOrEqual(r.utilizationPct);
      expect(r.paperPct).not.toBe(undefined);
    }
    expect(at("normal press", 25)?.paperPct).toBe(28);
    expect(at("spammed notifications", 25)?.paperPct).toBe(39);
  });
});

describe("a reduced sweep", () => {
  it("says up front how many points it runs and about how long, then each point done of the total", async () => {
    const cpuOnly: Scenario = { ...adjustScenario(paper, { quick: true }), loss: undefined };
    const plans: { total: number; etaS: number }[] = [];
    const steps: [number, number][] = [];
    await runSweep([cpuOnly], {
      quick: true,
      onStart: (p) => plans.push(p),
      onPoint: (p) => steps.push([p.index, p.total]),
    });
    expect(plans).toEqual([{ total: 1, etaS: 5 }]);
    expect(steps).toEqual([[1, 1]]);
    // The quick sweep's plan: 5 fleet points of 20 nodes and 5 s of presses, and the CPU table.
    const quick = ["paper", "settings"].map((n) => adjustScenario(loadScenario(n), { quick: true }));
    const fleetPoint = 0.1 + 2 + 5 + 5 + 2 + 2;
    expect(pointSeconds(quick[0]?.fleet as Scenario["fleet"])).toBeCloseTo(fleetPoint);
  });

  it("refuses a variant with a bad override before the first point, naming scenario, variant and field", async () => {
    const settings = loadScenario("settings");
    const bad: Scenario = {
      ...settings,
      settings: { lossPct: [5], variants: [{ name: "typo", how: "x", overrides: { w5100: { rtr: 1 } } }] },
    };
    const points: string[] = [];
    const run = runSweep([bad], { quick: true, onPoint: (p) => points.push(p.label) });
    await expect(run).rejects.toThrow(ScenarioError);
    await expect(run).rejects.toThrow(
      "scenario settings, variant typo: overrides.w5100.rtr: not a number in the device profile",
    );
    expect(points).toEqual([]);
  });

  it("refuses a fleet profile that does not load before the first point, naming scenario and field", async () => {
    const bad: Scenario = { ...paper, fleet: { ...paper.fleet, profile: "nope" } };
    const points: string[] = [];
    const run = runSweep([bad], { quick: true, clock: "virtual", onPoint: (p) => points.push(p.label) });
    await expect(run).rejects.toThrow(ScenarioError);
    await expect(run).rejects.toThrow(
      'scenario paper: fleet.profile: no device profile "nope"; the profiles are',
    );
    expect(points).toEqual([]);
  });

  it("runs the paper's points and a settings point and writes a report with every part", async () => {
    const quick = adjustScenario(paper, { quick: true });
    const settings: Scenario = adjustScenario(loadScenario("settings"), { quick: true });
    const one: Scenario = {
      ...settings,
      settings: {
        lossPct: [25],
        variants: (settings.settings?.variants ?? []).slice(0, 1),
      },
    };
    const lines: string[] = [];
    // On virtual time: the points, the report's parts and the trends are the sweep's own logic.
    const r = await runSweep([quick, one], {
      quick: true,
      clock: "virtual",
      onPoint: (p) => lines.push(p.label),
    });
    expect(lines).toHaveLength(5);
    expect(lines[0]).toBe("paper: 0% loss");
    const loss = r.scenarios[0]?.loss ?? [];
    expect(loss.map((p) => p.lossPct)).toEqual([0, 15, 25]);
    const [p0, , p25] = loss;
    if (!p0 || !p25) throw new Error("missing points");
    for (const p of loss) {
      expect(p.echo.count).toBeGreaterThan(20);
      expect(p.sync.count).toBeGreaterThan(20);
      expect(p.echo.p50).toBeLessThanOrEqual(p.echo.p99);
      expect(p.sync.p25).toBeLessThanOrEqual(p.sync.p75);
      expect(p.registration.registered).toBe(p.registration.nodes);
    }
    // Loss raises the tail: TCP retransmits, 200 ms at the least, on either hop.
    expect(p25.echo.p99).toBeGreaterThan(p0.echo.p99);
    expect(p25.echo.p99).toBeGreaterThan(200);
    expect(p25.sync.p99).toBeGreaterThan(p0.sync.p99);
    expect(p25.link.retransmissions).toBeGreaterThan(p0.link.retransmissions);
    expect(p0.lost).toBe(0);
    expect(p0.link.retransmissions).toBe(0);
    expect(r.scenarios[0]?.cpu?.rows).toHaveLength(6);
    const sp = r.scenarios[1]?.settings?.points ?? [];
    expect(sp).toHaveLength(1);
    expect(sp[0]).toMatchObject({ variant: "defaults", lossPct: 25 });
    expect(sp[0]?.meetsGoal).toBe(
      (sp[0]?.sync.p99 ?? 0) < 1000 && sp[0]?.lost === 0 && sp[0]?.echoLate === 0,
    );
    expect(typeof r.allKeptUp).toBe("boolean");

    const dir = mkdtempSync(join(tmpdir(), "sweep-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    writeSweep(dir, r);
    const json = JSON.parse(readFileSync(join(dir, "report.json"), "utf8"));
    expect(json.kind).toBe("twinfleet-sweep");
    expect(json.scenarios[0].loss[2].sim).toHaveProperty("keptUp");
    const lossCsv = readFileSync(join(dir, "loss.csv"), "utf8").trim().split("\n");
    expect(lossCsv).toHaveLength(4);
    expect(lossCsv[0]).toMatch(/^scenario,lossPct,echo_count,echo_p5Ms/);
    expect(readFileSync(join(dir, "cpu.csv"), "utf8").trim().split("\n")).toHaveLength(7);
    expect(readFileSync(join(dir, "settings.csv"), "utf8").trim().split("\n")).toHaveLength(2);
    const html = readFileSync(join(dir, "report.html"), "utf8");
    for (const part of [
      "Fig. 7",
      "Fig. 8",
      "Registration time",
      "CPU utilization",
      "Beyond the paper",
      "1 s requirement",
      "30 s requirement",
    ]) {
      expect(html).toContain(part);
    }
    expect(html.match(/<svg /g)?.length).toBe(4);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
  });
});

describe("a sweep stopped before its last point", () => {
  it("runs no further point once its signal is aborted, and its report and files hold the points done", async () => {
    const quick = adjustScenario(paper, { quick: true });
    const stop = new AbortController();
    const labels: string[] = [];
    // Aborted as the first point ends (as Ctrl-C during it): no other starts.
    const r = await runSweep([quick], {
      quick: true,
      clock: "virtual",
      signal: stop.signal,
      onPoint: (p) => {
        labels.push(p.label);
        stop.abort();
      },
    });
    expect(labels).toEqual(["paper: 0% loss"]);
    expect(r.cutShort).toEqual({ done: 1, of: 4 });
    expect(r.scenarios[0]?.loss?.map((p) => p.lossPct)).toEqual([0]);
    expect(r.scenarios[0]?.cpu).toBeUndefined();
    const dir = mkdtempSync(join(tmpdir(), "sweep-cut-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    writeSweep(dir, r);
    expect(readFileSync(join(dir, "report.html"), "utf8")).toContain("Cut short: 1 of 4 points run");
    expect(JSON.parse(readFileSync(join(dir, "report.json"), "utf8")).cutShort).toEqual({ done: 1, of: 4 });
  });
});
