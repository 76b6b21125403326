/**
 * The convergence chart (web/public/charts.js) draws the share in steps: each history point is the
 * share from its time until the next, so the line holds flat and moves upright at the next point.
 * It joined the points with slants, drawing shares nobody measured: a fall from 100 % to 0 % a
 * minute later read as a fleet sliding out of sync over that minute. The module is loaded in
 * Debian's Chromium from the page's own files, and given a history.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Browser, modulesPage, openBrowser } from "./harness.js";

let browser: Browser;
beforeAll(async () => {
  browser = await openBrowser();
});
afterAll(async () => {
  await browser?.close();
});

/** The chart's polyline points for `history` over a 3-minute window ending at 180 s. */
async function linePoints(history: readonly object[]): Promise<[number, number][][]> {
  const page = await modulesPage(browser);
  // A script of its own: the test's own bundler would rewrite an import() in a function passed in.
  const lines: string[] = await page.evaluate(`(async () => {
    const { convergenceChart } = await import("/charts.js");
    const svg = convergenceChart(${JSON.stringify(history)}, 180000, [], 180000);
    return [...svg.querySelectorAll("polyline.line")].map((l) => l.getAttribute("points") ?? "");
  })()`);
  await page.close();
  return lines.map((l) => l.split(" ").map((p) => p.split(",").map(Number) as [number, number]));
}

it("holds each share until the next point and steps there, on to now", async () => {
  const history = [
    { t: 0, fraction: 1, inSync: 50, known: 50, online: 50 },
    { t: 60_000, fraction: 0, inSync: 0, known: 50, online: 35 },
    { t: 120_000, fraction: 0.7, inSync: 35, known: 50, online: 35 },
  ];
  const lines = await linePoints(history);
  expect(lines).toHaveLength(1);
  const pts = lines[0] as [number, number][];
  // Every piece is flat or upright: no slant.
  for (let i = 1; i < pts.length; i++) {
    const [x0, y0] = pts[i - 1] as [number, number];
    const [x1, y1] = pts[i] as [number, number];
    expect(x0 === x1 || y0 === y1, `piece ${i}: ${x0},${y0} → ${x1},${y1}`).toBe(true);
  }
  // 100 % (y 8) until 60 s (x 126.7), down to 0 % (y 100), flat to 120 s (x 219.3), up to 70 %
  // (y 35.6), on to now (x 312).
  expect(pts).toEqual([
    [34, 8],
    [126.7, 8],
    [126.7, 100],
    [219.3, 100],
    [219.3, 35.6],
    [312, 35.6],
  ]);
});
