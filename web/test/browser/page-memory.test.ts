/**
 * The page keeps nothing of a page it left: an operator who opens node after node from the fleet
 * page, for hours on a wall display, holds one fleet page in memory, not one more for every visit.
 * Each fleet map once listened to the colour scheme (a MediaQueryList listener, which lives as long as
 * the document), and that listener held the map's canvas and, through it, the whole fleet page it
 * was drawn in: 60 visits left 61 canvases and 37,055 DOM nodes where 2 and 1,301 remain now.
 */
import type { CDPSession, Page } from "playwright-core";
import { expect, it } from "vitest";
import { simAndBrowser } from "./sim-and-browser.js";

const NODES = 20;
const VISITS = 10;
const fx = simAndBrowser(NODES, ["--workers", "1"]);

/** The canvases still in the page's memory after a full garbage collection, in the DOM or not. */
async function canvasesHeld(cdp: CDPSession): Promise<number> {
  await cdp.send("HeapProfiler.collectGarbage");
  const proto = await cdp.send("Runtime.evaluate", { expression: "HTMLCanvasElement.prototype" });
  const found = await cdp.send("Runtime.queryObjects", { prototypeObjectId: proto.result.objectId! });
  const n = await cdp.send("Runtime.callFunctionOn", {
    objectId: found.objects.objectId!,
    functionDeclaration: "function () { return this.length; }",
    returnByValue: true,
  });
  return n.result.value as number;
}

const shows = (page: Page, text: string) =>
  page.waitForFunction(
    `(document.getElementById("shown")?.textContent ?? "").startsWith(${JSON.stringify(text)})`,
  );

it("holds one fleet page however many node pages were opened from it", async () => {
  const page = await fx.browser.page();
  const cdp = await fx.browser.context.newCDPSession(page);
  await page.goto(fx.sim.pageUrl);
  await shows(page, `${NODES} of ${NODES} nodes`);
  expect(await canvasesHeld(cdp)).toBe(1);
  for (let i = 0; i < VISITS; i++) {
    const id = `n-${String(i).padStart(4, "0")}`;
    // Through the page's own links, as an operator goes; waited for with functions, not element
    // handles, which would keep what they found.
    await page.evaluate(`location.hash = "#/node/${id}"`);
    await page.waitForFunction(`document.querySelector("#main h1")?.textContent === "${id}"`);
    await page.evaluate(`location.hash = "#/"`);
    await shows(page, `${NODES} of ${NODES} nodes`);
  }
  // The map on screen, and at most the one last left while the browser finishes with it.
  expect(await canvasesHeld(cdp)).toBeLessThanOrEqual(2);
  await page.close();
});
