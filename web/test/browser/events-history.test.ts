/**
 * The page's Events card shows what happened before it opened: the stream's `hello` carries the
 * service's last log lines (web/events.ts). It showed only the lines that came after it opened, so an
 * operator who opened the page after a broker restart or a node's loss saw an empty card. After its
 * stream is lost and opened again (a proxy that stops passing bytes, as in silent-stream.test.ts), the
 * card holds each line once: those it had, and those logged while it was away.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RealScheduler } from "../../../node/scheduler.js";
import { NodeId } from "../../../protocol/index.js";
import { freezableProxy } from "../../../twins/test/freezable-proxy.js";
import { startWebServer, type WebServer } from "../../server.js";
import { QuietSource } from "../helpers.js";
import { type Browser, openBrowser } from "./harness.js";

/** A fleet of one node that logs what the test says, at the host's time. */
class TalkingSource extends QuietSource {
  readonly title = "talking";
  constructor(private readonly sched: RealScheduler) {
    super();
  }
  now = () => this.sched.wallNow();
  nodes = () => [
    {
      id: NodeId("n-1"),
      kind: "sim" as const,
      on: false,
      online: true,
      sync: "unknown" as const,
      version: 1,
    },
  ];
  say(level: "info" | "warn", text: string): void {
    this.events.emit("log", { t: this.sched.wallNow(), level, text });
  }
}

const PING_MS = 400;
let server: WebServer;
let source: TalkingSource;
let proxy: Awaited<ReturnType<typeof freezableProxy>>;
let browser: Browser;

beforeAll(async () => {
  const scheduler = new RealScheduler();
  source = new TalkingSource(scheduler);
  server = await startWebServer({
    source,
    kind: "twins",
    port: 0,
    token: "events-history-token-0123456789",
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
  expect(errors, "uncaught errors in the page").toEqual([]);
});

/** The Events card's lines, newest first, without their times. */
const lines = async (page: Page) =>
  page
    .locator('ol[aria-label="Fleet events"] li')
    .evaluateAll((els) =>
      els.map((e) => (e.textContent ?? "").slice(e.querySelector("time")?.textContent?.length ?? 0).trim()),
    );

describe("the Events card", () => {
  it("shows the lines logged before the page opened, and each once after its stream is opened again", async () => {
    source.say("warn", "broker connection lost: what is shown is as it was, until it is back");
    source.say("info", "broker connection back");
    source.say("info", "n-1 offline");
    const page = await browser.page();
    await page.goto(proxy.url.replace("mqtt://", "http://"));
    await page
      .locator("#live")
      .filter({ hasText: /^live$/ })
      .waitFor();
    await page.locator('ol[aria-label="Fleet events"] li').nth(2).waitFor();
    expect(await lines(page)).toEqual([
      "n-1 offline",
      "broker connection back",
      "broker connection lost: what is shown is as it was, until it is back",
    ]);

    source.say("info", "n-1 online");
    await page.locator('ol[aria-label="Fleet events"] li').nth(3).waitFor();
    // The stream goes silent; the page takes it as lost and opens it again once bytes flow.
    proxy.freeze();
    await page.locator("#live").filter({ hasText: "reconnecting…" }).waitFor({ timeout: 15_000 });
    source.say("warn", "n-1 offline");
    proxy.thaw();
    await page
      .locator("#live")
      .filter({ hasText: /^live$/ })
      .waitFor({ timeout: 15_000 });
    await page.locator('ol[aria-label="Fleet events"] li').nth(4).waitFor();
    // Give a doubled line time to show, had the page drawn one.
    await page.waitForTimeout(3 * PING_MS);
    expect(await lines(page)).toEqual([
      "n-1 offline",
      "n-1 online",
      "n-1 offline",
      "broker connection back",
      "broker connection lost: what is shown is as it was, until it is back",
    ]);
    await page.close();
  });
});
