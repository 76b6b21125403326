/**
 * The calibration table (bench/calibrate-table.ts, bench/calibrate-pooled.ts): its flags, the
 * drops it injects, its percentiles and ratios, the misses it names and the runs it pools.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { moved, readSides } from "./calibrate-pooled.js";
import {
  compare,
  kernelRun,
  kernelSpread,
  markdownTable,
  misses,
  nftRuleset,
  parseNumberList,
  percentile,
  pool,
  poolKernel,
  spreadTable,
  summarize,
  targetCount,
  targetLine,
} from "./calibrate-table.js";

describe("calibrate-table", () => {
  it("parses a loss list and names the flag on bad input", () => {
    expect(parseNumberList("--loss", "5, 10,25", 0, 90)).toEqual([5, 10, 25]);
    expect(() => parseNumberList("--loss", "5,,10", 0, 90)).toThrow(
      /--loss: expected a comma-separated list/,
    );
    expect(() => parseNumberList("--loss", "5,x", 0, 90)).toThrow(/--loss: "x" is not a number from 0 to 90/);
    expect(() => parseNumberList("--rates", "0", 0.01, 100)).toThrow(/--rates: "0"/);
  });

  it("drops at random both ways on the broker's port, whole percents only", () => {
    const rules = nftRuleset("t", 1883, 15);
    expect(rules).toContain("tcp dport 1883 numgen random mod 100 < 15 drop");
    expect(rules).toContain("tcp sport 1883 numgen random mod 100 < 15 drop");
    expect(() => nftRuleset("t", 1883, 2.5)).toThrow(/whole percent/);
    expect(() => nftRuleset("T;x", 1883, 5)).toThrow(/nft table/);
    expect(() => nftRuleset("t", 0, 5)).toThrow(/nft port 0/);
  });

  it("takes nearest-rank percentiles", () => {
    const s = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(s, 0.5)).toBe(50);
    expect(percentile(s, 0.9)).toBe(90);
    expect(percentile(s, 0.99)).toBe(99);
    expect(percentile([7], 0.99)).toBe(7);
    expect(percentile([], 0.5)).toBeNaN();
  });

  it("summarizes unsorted samples and divides model by real", () => {
    const real = summarize([400, 1, 2, 3, 200, 5, 6, 7, 8, 9], 1);
    expect(real).toEqual({ samples: 10, p50Ms: 6, p90Ms: 200, p99Ms: 400, lost: 1 });
    const model = summarize([3, 300, 3, 3, 3, 3, 3, 3, 3, 1000], 4);
    const row = compare(15, 40, real, model);
    expect(row.ratio).toEqual({ p50: 0.5, p90: 1.5, p99: 2.5 });
    const table = markdownTable([row]);
    expect(table.split("\n")).toHaveLength(3);
    expect(table).toContain(
      "| 15 % | 40 | 10 | 6.0 / 200 / 400 | 1 | 10 | 3.0 / 300 / 1,000 | 4 | 0.50 / 1.50 / 2.50 |",
    );
  });

  it("pools several model runs: mean percentiles and lost, samples summed, runs shown", () => {
    const a = { samples: 100, p50Ms: 10, p90Ms: 200, p99Ms: 1000, lost: 3 };
    const b = { samples: 120, p50Ms: 20, p90Ms: 400, p99Ms: 2000, lost: 4 };
    const p = pool([a, b]);
    expect(p).toEqual({ samples: 220, p50Ms: 15, p90Ms: 300, p99Ms: 1500, lost: 3.5, runs: 2 });
    expect(markdownTable([compare(20, 40, a, p)])).toContain("| 220 (2 runs) | 15 / 300 / 1,500 | 3.5 |");
    expect(pool([a])).toEqual({ ...a, runs: 1 });
    expect(() => pool([])).toThrow(/no runs/);
  });

  it("shows a ratio it cannot take as a dash", () => {
    const zero = summarize([0, 0], 0);
    expect(markdownTable([compare(5, 40, zero, zero)])).toContain("– / – / –");
  });
});

describe("misses", () => {
  const side = (p50Ms: number, p90Ms: number, p99Ms: number, lost: number) => ({
    samples: 100,
    p50Ms,
    p90Ms,
    p99Ms,
    lost,
  });

  it("names each clause of the target the row misses", () => {
    expect(misses(compare(15, 40, side(6, 400, 1500, 12), side(0.1, 470, 1500, 14)))).toEqual([]);
    expect(misses(compare(15, 40, side(6, 400, 1500, 12), side(0.1, 490, 1190, 19)))).toEqual([
      "p90",
      "p99",
      "lost",
    ]);
    // p50 counts only where the kernel's exceeds 10 ms; lost within ±2 passes however small.
    expect(misses(compare(20, 40, side(200, 1000, 3000, 1), side(100, 1000, 3000, 3)))).toEqual(["p50"]);
  });
});

describe("pooled kernel runs", () => {
  const side = (p50Ms: number, p90Ms: number, p99Ms: number, lost: number, samples = 100) => ({
    samples,
    p50Ms,
    p90Ms,
    p99Ms,
    lost,
  });
  const file = (rows: object[], extra: object = {}) => ({ clients: 50, seconds: 60, rows, ...extra });
  const row = (lossPct: number, ratePerS: number, real: object) => ({ lossPct, ratePerS, real, model: {} });

  it("reads a result file, plain when it predates --traffic, and names the file on bad input", () => {
    const r = kernelRun("a.json", file([row(20, 40, side(100, 700, 2000, 1))]));
    expect(r).toEqual({
      file: "a.json",
      clients: 50,
      seconds: 60,
      traffic: "plain",
      rows: [{ lossPct: 20, ratePerS: 40, real: side(100, 700, 2000, 1) }],
    });
    expect(kernelRun("b.json", file([], { traffic: "protocol" })).traffic).toBe("protocol");
    expect(() => kernelRun("c.json", { rows: [] })).toThrow(/--real c.json: not a calibrate result/);
    expect(() => kernelRun("d.json", file([row(20, 40, { p50Ms: 1 })]))).toThrow(
      /--real d.json: row 0 \(20 %, 40\/s\): real needs samples/,
    );
    const twice = file([row(20, 40, side(1, 2, 3, 0)), row(20, 40, side(1, 2, 3, 0))]);
    expect(() => kernelRun("e.json", twice)).toThrow(/--real e.json: 20 %, 40\/s appears twice/);
    expect(() => kernelRun("f.json", file([], { traffic: "x" }))).toThrow(/--real f.json: traffic "x"/);
  });

  const a = kernelRun(
    "a.json",
    file([row(5, 40, side(1, 100, 300, 0)), row(20, 40, side(100, 600, 2000, 0))]),
  );
  const b = kernelRun("b.json", file([row(20, 40, side(120, 800, 3000, 20))], { traffic: "protocol" }));
  const c = kernelRun(
    "c.json",
    file([row(20, 40, side(140, 1000, 4000, 40)), row(20, 80, side(1, 2, 3, 4))]),
  );

  it("pools each level-rate over the runs that measured it, saying how many", () => {
    const { clients, seconds, levels } = poolKernel([a, b, c]);
    expect([clients, seconds]).toEqual([50, 60]);
    expect(levels.map((l) => [l.lossPct, l.ratePerS, l.real.runs, l.files])).toEqual([
      [5, 40, 1, ["a.json"]],
      [20, 40, 3, ["a.json", "b.json", "c.json"]],
      [20, 80, 1, ["c.json"]],
    ]);
    expect(levels[1]?.real).toEqual({ samples: 300, p50Ms: 120, p90Ms: 800, p99Ms: 3000, lost: 20, runs: 3 });
    const model = side(120, 800, 3000, 20);
    const table = markdownTable([compare(20, 40, levels[1]?.real ?? model, model)]);
    expect(table).toContain("| 20 % | 40 | 300 (3 runs) | 120 / 800 / 3,000 | 20 |");
  });

  it("refuses runs of another fleet, naming the file and the mismatch", () => {
    const short = kernelRun("short.json", { ...file([]), seconds: 30 });
    expect(() => poolKernel([a, short])).toThrow(/--real short.json: seconds 30, where a.json has 60/);
    const big = kernelRun("big.json", { ...file([]), clients: 100 });
    expect(() => poolKernel([a, big])).toThrow(/--real big.json: clients 100, where a.json has 50/);
    expect(() => poolKernel([a, a])).toThrow(/--real a.json: given twice/);
    expect(() => poolKernel([])).toThrow(/no kernel runs/);
  });

  it("judges each run against the pool of the others, only where there are two or more", () => {
    const spread = kernelSpread(poolKernel([a, b, c]).levels);
    expect(spread.map((s) => s.file)).toEqual(["a.json", "b.json", "c.json"]);
    // a against pool(b, c) = 130 / 900 / 3,500, lost 30; b against pool(a, c) = 120 / 800 / 3,000, 20.
    expect(spread[0]?.row.ratio).toEqual({ p50: 0.77, p90: 0.67, p99: 0.57 });
    expect(spread[0]?.misses).toEqual(["p50", "p90", "p99", "lost"]);
    expect(spread[1]?.misses).toEqual([]);
    expect(spread[2]?.misses).toEqual(["p50", "p90", "p99", "lost"]);
    const table = spreadTable(spread);
    expect(table).toContain(
      "| 20 % | 40 | 3 | 0.77–1.27 | 0.67–1.43 | 0.57–1.60 | 0 (30), 20 (20), 40 (10) | 1 of 3 | p50 ×2, p90 ×2, p99 ×2, lost ×2 |",
    );
    expect(table.split("\n")).toHaveLength(3);
    const count = targetCount(spread.map((s) => s.misses));
    expect(count).toEqual({ inTarget: 1, of: 3, clauseMisses: { p50: 2, p90: 2, p99: 2, lost: 2 } });
    expect(targetLine(count)).toBe("1 of 3 in target; clause misses p50 / p90 / p99 / lost: 2 / 2 / 2 / 2");
  });

  it("counts the level-runs a change moved into the target and out of it", () => {
    const real = side(100, 1000, 3000, 10);
    const good = side(100, 1000, 3000, 10);
    const bad = side(100, 1000, 3000, 40);
    const before = [compare(20, 40, real, bad), compare(25, 40, real, good), compare(25, 80, real, bad)];
    const after = [compare(20, 40, real, good), compare(25, 40, real, bad), compare(25, 80, real, good)];
    expect(moved(before, after)).toEqual({ into: 2, out: 1 });
    expect(() => moved(before, after.slice().reverse())).toThrow(/different levels/);
  });
});

describe("saved model sides", () => {
  const dir = mkdtempSync(join(tmpdir(), "calib-sides-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const put = (name: string, text: string) => {
    const f = join(dir, name);
    writeFileSync(f, text);
    return f;
  };
  const side = { samples: 10, p50Ms: 1, p90Ms: 2, p99Ms: 3, lost: 0 };

  it("reads sides saved for the same fleet and names what is wrong otherwise", () => {
    const ok = put(
      "ok.json",
      JSON.stringify({ clients: 50, seconds: 60, seeds: 5, sides: { "20/40": side } }),
    );
    expect(readSides("--before", ok, 50, 60, ["20/40"]).sides["20/40"]).toEqual(side);
    expect(() => readSides("--before", ok, 50, 60, ["20/40", "25/80"])).toThrow(
      /--before .*ok.json: no model side for 25\/80/,
    );
    expect(() => readSides("--model-from", ok, 40, 60, [])).toThrow(
      /--model-from .*ok.json: not model sides of 40 clients, 60 s/,
    );
    expect(() => readSides("--before", put("bad.json", "{"), 50, 60, [])).toThrow(
      /--before .*bad.json: not JSON/,
    );
    expect(() => readSides("--before", join(dir, "none.json"), 50, 60, [])).toThrow(
      /^--before: cannot read .*none.json: no such file$/,
    );
  });
});
