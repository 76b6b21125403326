/**
 * A log line's time on the fleet page (web/public/dom.js `logTime`): a run's lines count from its
 * start, a live fleet's carry dates, which the page showed as hours since 1970 ("499060.7 h").
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { expect, it } from "vitest";

const load = async () => {
  const url = pathToFileURL(join(import.meta.dirname, "..", "public", "dom.js")).href;
  return (await import(url)) as { logTime(t: number): string };
};

it("shows a run's time from its start", async () => {
  const { logTime } = await load();
  expect(logTime(12_345)).toBe("0:12");
  expect(logTime(754_000)).toBe("12:34");
  expect(logTime(5_400_000)).toBe("1.5 h");
});

it("shows a live fleet's date as the time of day", async () => {
  const { logTime } = await load();
  const at = Date.UTC(2026, 11, 7, 5, 20, 25);
  expect(logTime(at)).toBe(new Date(at).toLocaleTimeString());
  expect(logTime(at)).not.toMatch(/ h$/);
});
