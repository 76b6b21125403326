/**
 * A node page opened before the fleet knows the node (a bookmark of a node that has not registered
 * yet, a sim's page opened while its nodes start) shows the node once it registers. It said "No node
 * n-0000" until it was opened again: its only read had answered 404, and it read the node again only
 * when it had a version to compare. A star's source, which no pairing names before it registers,
 * was not known yet when a page opened just after the sim started read it, now and then: its
 * Followers list never came (docs/web.md "The node page"). Also: the page says what a standalone
 * twins service's clock counts from, its own start, not the fleet's.
 */
import { expect, it } from "vitest";
import { serviceAndBrowser } from "./service-and-browser.js";

const TOKEN = "unknown-node-token-0123456789abcdef";
const fx = serviceAndBrowser({ token: TOKEN, dataPrefix: "tf-unknown-node-" });

it("shows a node that registers after its page was opened", async () => {
  const page = await fx.browser.page();
  await page.goto(`${fx.twins.httpOrigin}/#/node/n-0000&token=${TOKEN}`);
  await page.locator("#live.open").waitFor();
  // The service knows no node yet: the page says so.
  await page.getByRole("alert").filter({ hasText: "No node n-0000" }).waitFor();

  await fx.startFleet(3, ["--topology", "star", "--group-size", "3"]);
  // The page reads the node again once the event stream brings it.
  await page.locator("h1.mono", { hasText: "n-0000" }).waitFor({ timeout: 30_000 });
  const followers = page.locator('ul[aria-label="Nodes following n-0000"] li');
  await expect.poll(() => followers.count(), { timeout: 30_000 }).toBe(2);
  expect(await page.getByRole("alert").count()).toBe(0);

  // The service's clock starts with the service, not with the fleet (which may have run for days).
  const registered = page.locator("dt", { hasText: "Registered" }).locator("xpath=following-sibling::dd[1]");
  await expect.poll(() => registered.textContent()).toMatch(/ after this service started$/);
  await page.close();
});
