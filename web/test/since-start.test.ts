/**
 * When a node was last seen, on the node page (web/public/dom.js `sinceStart`): a twins service
 * started again on its --data knows nodes last heard before it started, a negative time on its
 * clock, which the page wrote as "-568610.27 ms after the fleet started".
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { expect, it } from "vitest";

it("says a moment before the service started as before it", async () => {
  const url = pathToFileURL(join(import.meta.dirname, "..", "public", "dom.js")).href;
  const { sinceStart } = (await import(url)) as { sinceStart(v: number | undefined): string };
  expect(sinceStart(-568_610.27)).toBe("568.6 s before this service started");
  expect(sinceStart(387.02)).toBe("387 ms after the fleet started");
  expect(sinceStart(73_105.7)).toBe("73.1 s after the fleet started");
  expect(sinceStart(undefined)).toBe("–");
});
