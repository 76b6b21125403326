/**
 * The convergence chart (web/public/charts.js) draws the time the twins service was not running as a
 * gap: a history kept in its data directory marks a restart with a point carrying `stoppedUntil`
 * (twins/history-restore.ts). Without that, the share from before the restart ran on through it as
 * if measured. The module is loaded in Debian's Chromium from the page's own files, and given a
 * history as /api/convergence serves it after a restart.
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

it("draws a `twins service not running` band over a restart's gap, and no line through it", async () => {
  const page = await modulesPage(browser);
  // In sync from 0; the service killed after its last record at 40 s, started again at 120 s.
  const history = [
    { t: 0, fraction: 1, inSync: 50, known: 50, online: 50 },
    { t: 40_000, fraction: 1, inSync: 50, known: 50, online: 50, stoppedUntil: 120_000 },
    { t: 121_000, fraction: 0.5, inSync: 25, known: 50, online: 50 },
  ];
  const drawn = (await page.evaluate(`(async () => {
    const { convergenceChart } = await import("/charts.js");
    const svg = convergenceChart(${JSON.stringify(history)}, 180000, [], 180000);
    const xs = (el) => el.getAttribute("points").split(" ").map((p) => Number(p.split(",")[0]));
    return {
      bands: [...svg.querySelectorAll("rect")].map((r) => ({
        cls: r.getAttribute("class"),
        x: Number(r.getAttribute("x")),
        width: Number(r.getAttribute("width")),
        title: r.querySelector("title")?.textContent ?? "",
      })),
      lines: [...svg.querySelectorAll("polyline")].map(xs),
    };
  })()`)) as {
    bands: { cls: string; x: number; width: number; title: string }[];
    lines: number[][];
  };
  await page.close();
  expect(drawn.bands.map((b) => b.cls)).toEqual(["stopped"]);
  expect(drawn.bands[0]?.title).toMatch(/^twins service not running/);
  // The plot runs from x 34 to 312 over 180 s: the band from 40 s to 120 s.
  const x = (t: number) => 34 + (t / 180_000) * 278;
  expect(drawn.bands[0]?.x).toBeCloseTo(x(40_000), 0);
  expect((drawn.bands[0]?.x ?? 0) + (drawn.bands[0]?.width ?? 0)).toBeCloseTo(x(120_000), 0);
  // Two runs of line, neither inside the gap: it held the 100 % on to 121 s.
  expect(drawn.lines).toHaveLength(2);
  for (const run of drawn.lines)
    for (const at of run) expect(at <= x(40_000) + 0.1 || at >= x(121_000) - 0.1).toBe(true);
});
