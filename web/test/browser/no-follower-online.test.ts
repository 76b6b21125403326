/**
 * The convergence chart of a standalone `twinfleet twins --http` once its whole fleet is gone (the
 * sim killed with kill -9, the broker publishing each node's last will): the header says `no
 * follower online`, and the chart must not go on plotting the last-heard 100 % as if it were judged.
 * It used to: the line ran on at 100 % to "now". The stretch is now a shaded band labelled `no
 * follower online`, in the page that watched it happen and in one opened after (the history
 * /api/convergence serves carries each point's `online`).
 */
import type { Page } from "playwright-core";
import { expect, it } from "vitest";
import { serviceAndBrowser } from "./service-and-browser.js";

const TOKEN = "chart-token-0123456789abcdef";
const fx = serviceAndBrowser({ token: TOKEN, dataPrefix: "tf-no-follower-" });

/** What the convergence card's chart draws: its label, its lines and dots, its bands and their text. */
async function chart(page: Page) {
  return (await page.evaluate(`(() => {
    const svg = document.querySelector('[aria-labelledby="conv-h"] svg.chart');
    return {
      label: svg.getAttribute("aria-label"),
      marks: svg.querySelectorAll("polyline.line, circle.dot").length,
      bands: svg.querySelectorAll("rect.unjudged").length,
      text: svg.querySelector(".unjudged-label")?.textContent ?? null,
    };
  })()`)) as { label: string; marks: number; bands: number; text: string | null };
}

async function fleetPage(): Promise<Page> {
  const page = await fx.browser.page();
  await page.goto(`${fx.twins.httpOrigin}/#token=${TOKEN}`);
  await page.locator("#live.open").waitFor();
  return page;
}

it("shows a band, not the last-heard 100 %, where no follower was online", async () => {
  const sim = await fx.startFleet(4, ["--topology", "pairs"]);
  const page = await fleetPage();
  await page.locator("#stat-sync dd").filter({ hasText: "100.0 %" }).waitFor({ timeout: 30_000 });
  await expect.poll(async () => (await chart(page)).marks, { timeout: 10_000 }).toBeGreaterThan(0);
  expect((await chart(page)).bands).toBe(0);

  sim.kill("SIGKILL");
  await page.locator("#stat-sync dd").filter({ hasText: "no follower online" }).waitFor({ timeout: 30_000 });
  await expect.poll(async () => (await chart(page)).bands, { timeout: 10_000 }).toBe(1);
  const watched = await chart(page);
  expect(watched.text).toBe("no follower online");
  expect(watched.label).toBe("Fleet convergence over time, now no follower online (last heard 100.0 %)");

  // A page opened afterwards draws it from the history the service kept. Its point is the feed's
  // next computation's (at most every 100 ms, on the service's loop), which the live page may precede.
  const lastPoint = async () => {
    const r = await fetch(`${fx.twins.httpOrigin}/api/convergence`, {
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    return ((await r.json()) as { history: { online?: number; known: number }[] }).history.at(-1);
  };
  await expect.poll(lastPoint, { timeout: 10_000 }).toMatchObject({ online: 0, known: 4 });
  const later = await fleetPage();
  await later.locator("#stat-sync dd").filter({ hasText: "no follower online" }).waitFor();
  const opened = await chart(later);
  expect(opened.bands).toBeGreaterThanOrEqual(1);
  expect(opened.text).toBe("no follower online");
});
