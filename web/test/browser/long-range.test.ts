/**
 * The convergence card's range switch (web/public/fleet.js, minutes-chart.js): the chart showed the
 * last few minutes only (1,024 points), so the morning after a broker outage the page could not say
 * whether the fleet had been in sync through it. `last 48 h` draws the twins service's minutes from
 * /api/convergence/minutes: each minute's lowest share, the broker's outage as a band, and says the
 * lowest share and when. Debian's Chromium, the page served by the web server.
 */
import { expect, it } from "vitest";
import { RealScheduler } from "../../../node/scheduler.js";
import type { MinutePoint } from "../../../twins/index.js";
import { demoAndBrowser } from "./demo-and-browser.js";

const MINUTE = 60_000;
let dipAt = 0;
let awayFrom = 0;

const demo = demoAndBrowser({
  token: "long-range-0123456789",
  scheduler: () => RealScheduler.epoch(),
  prepare: (source, scheduler) => {
    // Ten hours of minutes: in sync, a dip to 37 % five hours ago, the broker away 6 min after it.
    const start = Math.floor(scheduler.now() / MINUTE) * MINUTE - 600 * MINUTE;
    dipAt = start + 300 * MINUTE;
    awayFrom = start + 310 * MINUTE;
    const minutes = (): MinutePoint[] =>
      Array.from({ length: 601 }, (_, i): MinutePoint => {
        const t = start + i * MINUTE;
        if (i === 300) return { t, fraction: 0.37, inSync: 37, known: 100, online: 100 };
        if (i >= 310 && i < 316) return { t, away: true };
        return { t, fraction: 1, inSync: 100, known: 100, online: 100 };
      });
    Object.assign(source, { minutes });
  },
});

const hhmm = (t: number) => `${new Date(t).toISOString().slice(11, 16)} UTC`;

it("switches the convergence chart between the last minutes and the last 48 h of minutes", async () => {
  const page = await demo.browser.page();
  await page.goto(`http://127.0.0.1:${demo.server.port}/`, { timeout: 20_000 });
  await page.locator("#live").filter({ hasText: "live" }).waitFor({ timeout: 20_000 });
  const recent = page.locator('button[data-range="recent"]');
  const long = page.locator('button[data-range="long"]');
  expect(await recent.getAttribute("aria-pressed")).toBe("true");
  expect(await page.locator("#conv-long").isHidden()).toBe(true);

  await long.click();
  const says = page.locator("#conv-long-says").filter({ hasText: "lowest" });
  await says.waitFor({ timeout: 20_000 });
  expect(await says.textContent()).toBe(`lowest 37.0 % (37 of 100) at ${hhmm(dipAt)}; broker away in 6 min`);
  expect(await long.getAttribute("aria-pressed")).toBe("true");
  expect(await page.locator("#conv-long svg.minutes").isVisible()).toBe(true);
  // The recent chart's box is hidden meanwhile.
  expect(
    await page.locator("#conv-long").evaluate((el) => el.previousElementSibling?.hasAttribute("hidden")),
  ).toBe(true);
  const bands = await page
    .locator("#conv-long rect.away title")
    .evaluateAll((ts) => ts.map((t) => t.textContent));
  expect(bands).toEqual([`broker away ${hhmm(awayFrom)} – ${hhmm(awayFrom + 6 * MINUTE)}`]);
  // The line breaks at the outage: two runs, the dip drawn at 37 % (y = 8 + 0.63 × 92).
  const lines = await page
    .locator("#conv-long polyline")
    .evaluateAll((ls) => ls.map((l) => l.getAttribute("points")));
  expect(lines).toHaveLength(2);
  expect(lines[0]).toContain(`,${8 + 0.63 * 92}`);

  await recent.click();
  expect(await page.locator("#conv-long").isHidden()).toBe(true);
  expect(await recent.getAttribute("aria-pressed")).toBe("true");
  await page.close();
});
