/**
 * The convergence chart (web/public/charts.js) tells a stretch where every follower was unheard (a
 * broker restart: none heard since, none known to be gone) from one with none online. Its history
 * points carried only `online`, so after a broker restart the chart drew `no follower online` over
 * a fleet that was only waiting to be heard. The module is loaded in Debian's Chromium from the
 * page's own files, and given a history as /api/convergence serves it.
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

interface Drawn {
  readonly label: string;
  readonly bands: { cls: string; title: string }[];
  readonly text: string | null;
}

/** The chart of `history` over a 3-minute window ending at 180 s: its label, bands and band text. */
async function draw(history: readonly object[]): Promise<Drawn> {
  const page = await modulesPage(browser);
  const drawn: Drawn = await page.evaluate(`(async () => {
    const { convergenceChart } = await import("/charts.js");
    const svg = convergenceChart(${JSON.stringify(history)}, 180000, [], 180000);
    return {
      label: svg.getAttribute("aria-label"),
      bands: [...svg.querySelectorAll("rect.unjudged")].map((r) => ({
        cls: r.getAttribute("class"),
        title: r.querySelector("title")?.textContent ?? "",
      })),
      text: svg.querySelector(".unjudged-label")?.textContent ?? null,
    };
  })()`);
  await page.close();
  return drawn;
}

it("marks a stretch with every follower unheard apart from one with none online", async () => {
  const history = [
    { t: 0, fraction: 1, inSync: 50, known: 50, online: 50 },
    { t: 30_000, fraction: 1, inSync: 50, known: 50, online: 0 }, // the sim killed
    { t: 60_000, fraction: 1, inSync: 50, known: 50, online: 50 },
    { t: 120_000, fraction: 1, inSync: 50, known: 50, online: 0, unheard: 50 }, // the broker restarted
  ];
  const drawn = await draw(history);
  expect(drawn.bands.map((b) => b.cls)).toEqual(["unjudged", "unjudged unheard"]);
  expect(drawn.bands[0]?.title).toMatch(/^no follower online/);
  expect(drawn.bands[1]?.title).toMatch(/^followers unheard: none heard since the broker restarted/);
  expect(drawn.text).toBe("followers unheard");
  expect(drawn.label).toBe("Fleet convergence over time, now followers unheard (last heard 100.0 %)");
});

it("draws the share again once one follower is heard, the others still unheard", async () => {
  const history = [
    { t: 0, fraction: 1, inSync: 50, known: 50, online: 0, unheard: 50 },
    { t: 90_000, fraction: 1, inSync: 50, known: 50, online: 1, unheard: 49 },
  ];
  const drawn = await draw(history);
  expect(drawn.bands.map((b) => b.cls)).toEqual(["unjudged unheard"]);
  expect(drawn.text).toBeNull();
  expect(drawn.label).toBe("Fleet convergence over time, now 100.0 %");
});
