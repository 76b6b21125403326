/**
 * The node page of a node with many followers keeps its Followers list while the node changes: each
 * follower's row (LED, link, Unpair button) is the same element after the page read the node again,
 * a button that had the focus keeps it, rows are added and removed as followers pair and unpair
 * (a follower paired elsewhere shows at once: the source's version moves with its followers), and
 * the followers' LEDs follow theirs. The list was built again on every change: 12,000 elements for a
 * source followed by 2,000 nodes, back to back while they came and went, and the focus went to the
 * page's body at each (docs/web.md "The node page").
 */
import type { Page } from "playwright-core";
import { expect, it } from "vitest";
import { simAndBrowser } from "./sim-and-browser.js";

const FOLLOWERS = 40;
// A star of one source, n-0000, followed by every other node.
const fx = simAndBrowser(FOLLOWERS + 1, ["--topology", "star", "--group-size", String(FOLLOWERS + 1)]);

const unpairOf = (n: string) => `button[aria-label="Unpair: ${n} stops following n-0000"]`;

/** Whether the page's focus is on the element kept as window.keptButton, and it is on the page. */
function focusKept(page: Page): Promise<boolean> {
  return page.evaluate("window.keptButton.isConnected && document.activeElement === window.keptButton");
}

it("keeps a many-followers node's rows, and the focus in them, across the node's changes", async () => {
  const page = await fx.browser.page();
  await page.goto(fx.sim.at("/node/n-0000"));
  const buttons = page.locator('ul[aria-label="Nodes following n-0000"] button');
  // The page may be opened before the source registered (web/test/browser/node-unknown.test.ts).
  await expect.poll(() => buttons.count(), { timeout: 30_000 }).toBe(FOLLOWERS);
  await page.locator(unpairOf("n-0001")).focus();
  await page.evaluate(`window.keptButton = document.activeElement`);
  for (let i = 0; i < 3; i++) {
    const was = await page.locator("#node-led").getAttribute("data-on");
    const want = was === "true" ? "false" : "true";
    const pressed = await fx.sim.api("api/nodes/n-0000/press", { method: "POST" });
    expect(pressed.status).toBe(202);
    // The page read the node again and drew it: its LED says the new state.
    await page.locator(`#node-led[data-on="${want}"]`).waitFor({ timeout: 10_000 });
    expect(await focusKept(page)).toBe(true);
    // The followers mirror the source: each row's LED follows, the source's twin unchanged.
    const led = want === "true" ? "led.on" : "led.off";
    await expect
      .poll(() => page.locator(`ul[aria-label="Nodes following n-0000"] .${led}`).count(), {
        timeout: 20_000,
      })
      .toBe(FOLLOWERS);
  }

  // A follower unpaired elsewhere: its row goes, the others and the focus stay.
  const list = page.locator('ul[aria-label="Nodes following n-0000"]');
  await page.evaluate(`window.keptList = document.querySelector('ul[aria-label="Nodes following n-0000"]')`);
  const gone = await fx.sim.api("api/nodes/n-0040/follows/n-0000", { method: "DELETE" });
  expect(gone.status).toBeLessThan(300);
  await page.locator(unpairOf("n-0040")).waitFor({ state: "detached", timeout: 10_000 });
  expect(await buttons.count()).toBe(FOLLOWERS - 1);
  expect(await focusKept(page)).toBe(true);
  expect(await page.evaluate("window.keptList.isConnected")).toBe(true);

  // It pairs again: the source's version moves with its followers, the page reads it again and
  // brings the row back in its place, with no press of the source; the focus stays. (The row used to
  // come only at the source's next change of its own: its version did not move in the list.)
  const version = async () => Number((await page.locator("#node-version").textContent())?.slice(1));
  const before = await version();
  const back = await fx.sim.api("api/nodes/n-0040/follows/n-0000", { method: "PUT" });
  expect(back.status).toBeLessThan(300);
  await page.locator(unpairOf("n-0040")).waitFor({ timeout: 20_000 });
  expect(await version()).toBeGreaterThan(before);
  expect(await buttons.count()).toBe(FOLLOWERS);
  expect(await list.locator("li").last().getAttribute("data-node")).toBe("n-0040");
  expect(await focusKept(page)).toBe(true);

  // The follower whose button has the focus unpairs: the focus goes to the row now in its place.
  await page.locator(unpairOf("n-0002")).focus();
  const left = await fx.sim.api("api/nodes/n-0002/follows/n-0000", { method: "DELETE" });
  expect(left.status).toBeLessThan(300);
  await page.locator(unpairOf("n-0002")).waitFor({ state: "detached", timeout: 10_000 });
  expect(await page.evaluate("document.activeElement?.getAttribute('aria-label')")).toBe(
    "Unpair: n-0003 stops following n-0000",
  );
  await page.close();
});
