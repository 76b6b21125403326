/**
 * `--forget-after`'s span (cli/span-flag.ts): hours, days or weeks, whole, at least the floor; the
 * bad values' exit code and message are cli/test/flag-fuzz.test.ts's.
 */
import { expect, it } from "vitest";
import { UsageError } from "../errors.js";
import { spanFlag } from "../span-flag.js";

const HOUR = 3_600_000;

it("takes whole hours, days and weeks from the floor up", () => {
  expect(spanFlag("--forget-after", "1h", HOUR, "1h")).toBe(HOUR);
  expect(spanFlag("--forget-after", "12h", HOUR, "1h")).toBe(12 * HOUR);
  expect(spanFlag("--forget-after", "30d", HOUR, "1h")).toBe(30 * 24 * HOUR);
  expect(spanFlag("--forget-after", "2w", HOUR, "1h")).toBe(14 * 24 * HOUR);
});

it("refuses minutes, fractions, signs, no unit and spans under the floor, naming the flag", () => {
  for (const raw of ["30m", "0h", "0", "-1d", "1.5d", "30", "abc", "1h ", "3651d"])
    expect(() => spanFlag("--forget-after", raw, HOUR, "1h")).toThrow(UsageError);
  expect(() => spanFlag("--forget-after", "2h", 3 * HOUR, "3h")).toThrow(
    /--forget-after must be a span of at least 3h/,
  );
});
