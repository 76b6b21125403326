/**
 * The node page of a node with many followers keeps its Followers list while the node changes: the
 * list, each follower's LED and Unpair button, is the same element after the page read the node
 * again, and a button that had the focus keeps it. It was built again on every change: 12,000
 * elements for a source followed by 2,000 nodes, back to back while they came and went, and an Unpair
 * pressed then went to a button already replaced (docs/web.md "The node page").
 */
import { expect, it } from "vitest";
import { simAndBrowser } from "./sim-and-browser.js";

const FOLLOWERS = 40;
// A star of one source, n-0000, followed by every other node.
const fx = simAndBrowser(FOLLOWERS + 1, ["--topology", "star", "--group-size", String(FOLLOWERS + 1)]);

it("keeps a many-followers node's list, and the focus in it, across the node's changes", async () => {
  const page = await fx.browser.page();
  await page.goto(fx.sim.at("/node/n-0000"));
  const buttons = page.locator('ul[aria-label="Nodes following n-0000"] button');
  await expect.poll(() => buttons.count(), { timeout: 20_000 }).toBe(FOLLOWERS);
  const first = page.locator('button[aria-label="Unpair: n-0001 stops following n-0000"]');
  await first.focus();
  await page.evaluate(`window.keptButton = document.activeElement`);
  for (let i = 0; i < 3; i++) {
    const was = await page.locator("#node-led").getAttribute("data-on");
    const want = was === "true" ? "false" : "true";
    const pressed = await fx.sim.api("api/nodes/n-0000/press", { method: "POST" });
    expect(pressed.status).toBe(202);
    // The page read the node again and drew it: its LED says the new state.
    await page.locator(`#node-led[data-on="${want}"]`).waitFor({ timeout: 10_000 });
    expect(await page.evaluate("window.keptButton.isConnected")).toBe(true);
    expect(await page.evaluate("document.activeElement === window.keptButton")).toBe(true);
  }
  expect(await buttons.count()).toBe(FOLLOWERS);
  await page.close();
});
