/**
 * A browser test file's fixture: the web server of a 4-node demo fleet (a monitor's page, on a real
 * scheduler) and Debian's Chromium, started before the file's tests and stopped after them; uncaught
 * errors in its pages fail the file. `prepare` gets the source before the server serves it.
 */
import { afterAll, beforeAll, expect } from "vitest";
import { RealScheduler } from "../../../node/scheduler.js";
import { DemoSource } from "../../../view/demo-source.js";
import { startWebServer, type WebServer } from "../../server.js";
import { type Browser, openBrowser } from "./harness.js";

export interface DemoAndBrowser {
  readonly server: WebServer;
  readonly source: DemoSource;
  readonly browser: Browser;
}

export function demoAndBrowser(o: {
  readonly token: string;
  /** The server's clock: by default one starting at 0. */
  readonly scheduler?: () => RealScheduler;
  readonly prepare?: (source: DemoSource, scheduler: RealScheduler) => void;
}): DemoAndBrowser {
  let server: WebServer | undefined;
  let source: DemoSource | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    const scheduler = o.scheduler?.() ?? new RealScheduler();
    source = new DemoSource({ nodes: 4, scheduler });
    o.prepare?.(source, scheduler);
    server = await startWebServer({ source, kind: "monitor", port: 0, token: o.token, scheduler });
    browser = await openBrowser();
  });
  afterAll(async () => {
    const errors = browser?.errors() ?? [];
    await browser?.close();
    await server?.close();
    source?.stop();
    expect(errors, "uncaught errors in the page").toEqual([]);
  });
  const started = <T>(x: T | undefined): T => {
    if (x === undefined) throw new Error("the demo's server and the browser start before the file's tests");
    return x;
  };
  return {
    get server() {
      return started(server);
    },
    get source() {
      return started(source);
    },
    get browser() {
      return started(browser);
    },
  };
}
