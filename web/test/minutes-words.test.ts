/**
 * The page's and the console's `last 48 h` say the same: the page's words (web/public/minutes-chart.js,
 * browser code that cannot import view/) against the console's (view/minutes-words.ts), on the same
 * minutes. A change to one that is not made to the other fails here.
 */
import { expect, it } from "vitest";
import type { MinutePoint } from "../../twins/index.js";
import { minutesSummary } from "../../view/minutes-words.js";
// @ts-expect-error the page's module is plain JavaScript, without types
import { minutesSummary as pageSummary } from "../public/minutes-chart.js";

const at = (h: number, m: number) => Date.UTC(2026, 11, 7, h, m);

const cases: Record<string, MinutePoint[]> = {
  empty: [],
  "nothing judged": [{ t: at(4, 0), online: 0 }],
  "a night with an outage and a restart": [
    { t: at(4, 54), fraction: 0.83, inSync: 83, known: 100, online: 0 },
    { t: at(4, 55), fraction: 0.27, inSync: 27, known: 100, online: 100, away: true },
    { t: at(4, 56), fraction: 10 / 73, inSync: 10, known: 73, online: 0, away: true },
    { t: at(4, 57), fraction: 0.64, inSync: 64, known: 100, online: 100 },
    { t: at(5, 3), online: 0, down: true },
  ],
  "two minutes as low, the first named": [
    { t: at(1, 0), fraction: 0.5, inSync: 1, known: 2 },
    { t: at(2, 0), fraction: 0.5, inSync: 2, known: 4 },
  ],
  "virtual time": [{ t: 3_725_000, fraction: 1, inSync: 8, known: 8, away: true }],
  "a fleet's first minute, its nodes joining": [
    { t: at(10, 11), fraction: 0, inSync: 0, known: 2, online: 2, joining: true },
    { t: at(10, 12), fraction: 16 / 19, inSync: 16, known: 19, online: 19 },
  ],
  "nodes joining only": [{ t: at(10, 11), fraction: 0, inSync: 0, known: 2, online: 2, joining: true }],
};

it("words the minutes as the page does", () => {
  for (const [what, minutes] of Object.entries(cases)) {
    expect(minutesSummary(minutes), what).toBe(
      (pageSummary as (d: { minutes: MinutePoint[] }) => string)({ minutes }),
    );
  }
  expect(minutesSummary(cases["a night with an outage and a restart"] ?? [])).toBe(
    "lowest 13.7 % (10 of 73) at 04:56 UTC; broker away in 2 min; twins service not running in 1 min",
  );
  // The registration's `0 of 2` is not the fleet's lowest: it said `lowest 0.0 % (0 of 2) at 10:11 UTC`.
  expect(minutesSummary(cases["a fleet's first minute, its nodes joining"] ?? [])).toBe(
    "lowest 84.2 % (16 of 19) at 10:12 UTC",
  );
  expect(minutesSummary(cases["nodes joining only"] ?? [])).toBe("nothing judged yet: nodes joining");
});
