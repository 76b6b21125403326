import { describe, expect, it } from "vitest";
import {
  compare,
  markdownTable,
  misses,
  nftRuleset,
  parseNumberList,
  percentile,
  pool,
  summarize,
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
