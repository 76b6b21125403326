/**
 * A browser test file's fixture: a real `twinfleet sim --http` of `nodes` nodes and Debian's Chromium,
 * started before the file's tests and stopped after them; uncaught errors in its pages fail the file.
 */
import { afterAll, beforeAll, expect } from "vitest";
import { type Browser, openBrowser, type SimServer, startSim } from "./harness.js";

export interface SimAndBrowser {
  readonly sim: SimServer;
  readonly browser: Browser;
}

export function simAndBrowser(nodes: number, extra: readonly string[]): SimAndBrowser {
  let sim: SimServer | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    sim = await startSim(nodes, extra);
    browser = await openBrowser();
  });
  afterAll(async () => {
    const errors = browser?.errors() ?? [];
    await browser?.close();
    await sim?.stop();
    expect(errors, "uncaught errors in the page").toEqual([]);
  });
  const started = <T>(x: T | undefined): T => {
    if (x === undefined) throw new Error("the sim and the browser start before the file's tests");
    return x;
  };
  return {
    get sim() {
      return started(sim);
    },
    get browser() {
      return started(browser);
    },
  };
}
