/**
 * The page when its event stream goes silent with the connection open — a server frozen (SIGSTOP, a
 * VM paused), or a network that drops packets without closing anything: a TCP proxy between Chromium
 * and the server stops passing bytes. Before, the page kept saying "live" over the fleet as it was,
 * for as long as that lasted. Now, after 3 of the server's ping periods with nothing heard (its
 * `hello` tells the period: 45 s by default, 0.4 s × 3 here), it says "reconnecting…" with the
 * reason, keeps trying, and is live again once bytes flow.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RealScheduler } from "../../../node/scheduler.js";
import { freezableProxy } from "../../../twins/test/freezable-proxy.js";
import { DemoSource } from "../../../view/demo-source.js";
import { startWebServer, type WebServer } from "../../server.js";
import { type Browser, openBrowser } from "./harness.js";

const PING_MS = 400;
let server: WebServer;
let source: DemoSource;
let proxy: Awaited<ReturnType<typeof freezableProxy>>;
let browser: Browser;

beforeAll(async () => {
  const scheduler = new RealScheduler();
  source = new DemoSource({ nodes: 4, scheduler });
  server = await startWebServer({
    source,
    kind: "monitor",
    port: 0,
    token: "silent-stream-token-0123456789",
    scheduler,
    pingMs: PING_MS,
  });
  proxy = await freezableProxy(server.port);
  browser = await openBrowser();
});
afterAll(async () => {
  const errors = browser?.errors() ?? [];
  await browser?.close();
  await proxy?.close();
  await server?.close();
  source?.stop();
  expect(errors, "uncaught errors in the page").toEqual([]);
});

/** What the header says of the stream, and why. */
const live = async (page: Page) => ({
  text: await page.locator("#live").textContent(),
  why: await page.locator("#live").getAttribute("title"),
});

describe("the page over an event stream gone silent", () => {
  it("says it is reconnecting after 3 ping periods of silence, and is live again once bytes flow", async () => {
    const page = await browser.page();
    await page.goto(proxy.url.replace("mqtt://", "http://"));
    await page.locator("#live").filter({ hasText: "live" }).waitFor();
    // Live for longer than the limit while pings and frames come: nothing is taken as silence.
    await page.waitForTimeout(3 * PING_MS + 400);
    expect(await live(page)).toMatchObject({ text: "live" });

    proxy.freeze();
    await page.locator("#live").filter({ hasText: "reconnecting…" }).waitFor({ timeout: 15_000 });
    // Counted from the last bytes the page heard, which may have come up to a ping period before
    // the freeze: from the last the proxy passed, the page got them a little later still.
    const after = performance.now() - proxy.lastDownAt();
    expect(await live(page)).toEqual({ text: "reconnecting…", why: "nothing heard from the server for 1 s" });
    // Not before the limit (3 × 0.4 s), give or take a timer's lateness.
    expect(after).toBeGreaterThanOrEqual(3 * PING_MS - 100);
    // A new request through the frozen path brings nothing either: still reconnecting.
    await page.waitForTimeout(3 * PING_MS + 2500);
    expect((await live(page)).text).toBe("reconnecting…");

    proxy.thaw();
    await page
      .locator("#live")
      .filter({ hasText: /^live$/ })
      .waitFor({ timeout: 15_000 });
    await page.close();
  });
});
