/**
 * When a node registered and was last seen, on the node page (web/public/dom.js `sinceStart`), in the
 * words of what the fleet's clock counts from: a sim's run, a standalone twins service's own start (a
 * page of one said "Registered 801 ms after the fleet started" of a fleet that had run for days), a
 * monitor's start. A twins service started again on its --data knows nodes last heard before it
 * started, a negative time on its clock, which the page wrote as "-568610.27 ms after the fleet
 * started".
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { expect, it } from "vitest";

const url = pathToFileURL(join(import.meta.dirname, "..", "public", "dom.js")).href;
const load = async () => (await import(url)) as { sinceStart(v: number | undefined, kind?: string): string };

it("says a moment before the service started as before it", async () => {
  const { sinceStart } = await load();
  expect(sinceStart(-568_610.27, "twins")).toBe("568.6 s before this service started");
  expect(sinceStart(undefined, "twins")).toBe("–");
});

it("names what the clock counts from: a sim's run, a twins service's start, a monitor's", async () => {
  const { sinceStart } = await load();
  expect(sinceStart(387.02, "sim")).toBe("387 ms after the fleet started");
  expect(sinceStart(73_105.7, "sim")).toBe("73.1 s after the fleet started");
  expect(sinceStart(801, "twins")).toBe("801 ms after this service started");
  expect(sinceStart(801, "monitor")).toBe("801 ms after this monitor started");
  // Before the page has read the fleet's kind, it claims no particular start.
  expect(sinceStart(801)).toBe("801 ms after the start");
});
