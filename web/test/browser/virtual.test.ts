/**
 * The web page on a real `twinfleet sim --clock virtual --headless --http`: the header shows virtual
 * time at ×1 (the pace a watched virtual run starts at), its Pause button stops virtual time — the
 * figure stands still while wall time goes on, and the API agrees — Resume starts it again, and ×10
 * speeds it up.
 */
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { simAndBrowser } from "./sim-and-browser.js";

const NODES = 20;
const fx = simAndBrowser(NODES, ["--clock", "virtual"]);

/** The header's virtual-time figure, e.g. `42 s ×1` or `42 s PAUSED ×1`. */
const figure = (page: Page) => page.locator("#stat-virtual dd");
const seconds = async (page: Page) => Number(/^(\d+) s/.exec((await figure(page).textContent()) ?? "")?.[1]);
/** Resolves once the figure's seconds pass `s` (checked in the page, on each of its frames). */
const pastSeconds = (page: Page, s: number) =>
  page.waitForFunction(
    `Number(/^(\\d+) s/.exec(document.querySelector("#stat-virtual dd")?.textContent ?? "")?.[1]) > ${s}`,
    undefined,
    { timeout: 20_000 },
  );
const fleetNow = async () => ((await (await fx.sim.api("api/fleet")).json()) as { now: number }).now;

describe("the web page on a virtual-time sim", () => {
  it("shows virtual time and its pace, pauses it, resumes it and speeds it up", async () => {
    const page = await fx.browser.page();
    await page.goto(fx.sim.pageUrl);
    await figure(page)
      .filter({ hasText: /^\d+ s ×1$/ })
      .waitFor();
    await expect(page.locator('#pace button[data-speed="1"]').getAttribute("aria-pressed")).resolves.toBe(
      "true",
    );
    const start = await seconds(page);
    await pastSeconds(page, start);

    await page.click("#pace-pause");
    await figure(page)
      .filter({ hasText: /PAUSED ×1$/ })
      .waitFor();
    await expect(page.locator("#pace-pause").textContent()).resolves.toBe("Resume");
    const paused = await seconds(page);
    const pausedNow = await fleetNow();
    // Wall time goes on; virtual time does not, in the page or in the API.
    await page.waitForTimeout(1500);
    expect(await seconds(page)).toBe(paused);
    expect(await fleetNow()).toBe(pausedNow);

    await page.click("#pace-pause");
    await figure(page)
      .filter({ hasText: /^\d+ s ×1$/ })
      .waitFor();
    await pastSeconds(page, paused);

    await page.click('#pace button[data-speed="10"]');
    await figure(page).filter({ hasText: /×10$/ }).waitFor();
    const fast = await seconds(page);
    // Twenty virtual seconds go by in about two of wall time at ×10.
    const t0 = performance.now();
    await pastSeconds(page, fast + 20);
    expect(performance.now() - t0).toBeLessThan(10_000);
    await page.close();
  });
});
