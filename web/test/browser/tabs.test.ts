/**
 * The page open in many tabs of one browser. A browser opens at most 6 connections to one server over
 * HTTP/1.1, its tabs together, and each page's event stream holds one for as long as it is open: with
 * the page in 6 tabs, every request of every tab waited for ever (a node page stayed "Loading…", a
 * set was never sent) and a 7th tab never loaded. A hidden tab now gives its stream back and opens it
 * again when it is shown. Headless Chromium shows every tab, so a tab is hidden here as a browser
 * hides the one left behind: `document.visibilityState` and its `visibilitychange` event.
 */
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { demoAndBrowser } from "./demo-and-browser.js";

const TABS = 8;
const demo = demoAndBrowser({ token: "tabs-token-0123456789abc" });

beforeAll(async () => {
  await demo.browser.context.addInitScript({
    content: `Object.defineProperty(Document.prototype, "visibilityState", {
      configurable: true,
      get: () => (window.hiddenTab === true ? "hidden" : "visible"),
    });`,
  });
});

const setHidden = (page: Page, hidden: boolean) =>
  page.evaluate(`window.hiddenTab = ${hidden}; document.dispatchEvent(new Event("visibilitychange"))`);

const streams = async (): Promise<number> => {
  const text = await (await fetch(`http://127.0.0.1:${demo.server.port}/metrics`)).text();
  return Number(/^twinfleet_web_event_clients (\d+)$/m.exec(text)?.[1]);
};

describe("the page in many tabs of one browser", () => {
  it("loads in every tab, each hidden one leaving its connection to the others", async () => {
    const url = `http://127.0.0.1:${demo.server.port}/`;
    const tabs: Page[] = [];
    for (let i = 0; i < TABS; i++) {
      const page = await demo.browser.page();
      // Before, the 7th tab never loaded: 6 streams held the browser's 6 connections.
      await page.goto(url, { timeout: 20_000 });
      await page.locator("#live").filter({ hasText: "live" }).waitFor({ timeout: 20_000 });
      if (tabs.length > 0) await setHidden(tabs.at(-1) as Page, true); // left behind, as a new tab hides it
      tabs.push(page);
    }
    const first = tabs[0] as Page;
    await first.locator("#live").filter({ hasText: "paused while hidden" }).waitFor();
    expect(await first.locator("#stale").textContent()).toContain("the tab was hidden");
    await expect.poll(streams, { timeout: 10_000 }).toBe(1);

    // Shown again: live, its stream open again, and its requests answered.
    await setHidden(first, false);
    await first
      .locator("#live")
      .filter({ hasText: /^live$/ })
      .waitFor({ timeout: 20_000 });
    expect(await first.locator("#stale").isHidden()).toBe(true);
    const answered = await first.evaluate(`fetch("api/fleet").then((r) => r.status)`);
    expect(answered).toBe(200);
    await expect.poll(streams, { timeout: 10_000 }).toBe(2);
  });
});
