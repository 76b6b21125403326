/**
 * minOf/maxOf over more values than a spread into Math.min/Math.max can take (a 150,000-node merged
 * report's registration times), and over none.
 */
import { describe, expect, it } from "vitest";
import { maxOf, minOf } from "../extremes.js";

describe("minOf and maxOf", () => {
  it("take 200,000 values, where Math.max(...values) overflows the stack", () => {
    const values = Array.from({ length: 200_000 }, (_, i) => (i * 7919) % 200_000);
    expect(() => Math.max(...values)).toThrow(RangeError);
    expect(maxOf(values)).toBe(199_999);
    expect(minOf(new Set(values).values())).toBe(0);
  });

  it("give the empty value for none", () => {
    expect(maxOf([], 0)).toBe(0);
    expect(minOf([])).toBe(Number.POSITIVE_INFINITY);
    expect(maxOf([-3, -1, -2])).toBe(-1);
  });
});
