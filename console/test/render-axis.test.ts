/**
 * The convergence chart's y axis: its floor lies below the window's lowest share, so every bar has
 * the height of its share above the floor and none reads as an empty column.
 */
import { describe, expect, it } from "vitest";
import { axisFloor, renderConvergence } from "../render/charts.js";
import { ASCII } from "../render/glyphs.js";

const plain = (s: string) => s.replace(/\{[^}]*\}/g, "");

describe("the convergence chart's axis", () => {
  it("draws a share sitting exactly on a tenth (70 %) above the axis's floor, not at no height", () => {
    // 20 s in sync, 20 s at 70 %, 20 s in sync; 25 columns of chart over 60 s.
    const history = [
      { t: 0, fraction: 1, known: 10, online: 10 },
      { t: 20_000, fraction: 0.7, known: 10, online: 10 },
      { t: 40_000, fraction: 1, known: 10, online: 10 },
    ];
    const c = { fraction: 1, inSync: 10, known: 10, online: 10, history };
    const lines = renderConvergence(c, 60_000, 30, 7, ASCII).map(plain);
    const chart = lines.slice(1, -1);
    // The axis started at 70 % and the 70 % columns were blank in every row, as no share at all.
    expect(chart.at(-1)?.slice(0, 4)).toBe(" 60%");
    const bottom = chart.at(-1)?.slice(5) ?? "";
    expect(bottom).toMatch(/^#{25}$/);
    // 70 % of an axis from 60 % to 100 %: a quarter of the 5 rows, drawn in the bottom row only.
    const middle = chart.map((l) => l.slice(5)[12]);
    expect(middle).toEqual([" ", " ", " ", " ", "#"]);
  });

  it("lies a tenth below a share on a tenth, at the tenth below any other, 0 for 0, at most 90 %", () => {
    expect([0.7, 0.73, 0.3, 0.1, 0, 0.05, 1, 0.95, 0.9].map(axisFloor)).toEqual([
      0.6, 0.7, 0.2, 0, 0, 0, 0.9, 0.9, 0.8,
    ]);
  });

  it("draws a share just above the floor at least an eighth high, not as the floor", () => {
    const history = [
      { t: 0, fraction: 1, known: 1000, online: 1000 },
      { t: 30_000, fraction: 0.701, known: 1000, online: 1000 },
    ];
    const c = { fraction: 0.701, inSync: 701, known: 1000, online: 1000, history };
    const chart = renderConvergence(c, 60_000, 30, 7, ASCII).map(plain).slice(1, -1);
    expect(chart.at(-1)?.slice(0, 4)).toBe(" 70%");
    // The 70.1 % columns (from 30 s on) rounded to no eighth and drew blank, as the floor.
    expect(chart.at(-1)?.slice(5)).toMatch(/^#{12}\.{13}$/);
  });
});
