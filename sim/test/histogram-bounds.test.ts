// A percentile is never above the largest value recorded (hdr-histogram answers with the top of a
// value's bucket), and a value past the highest trackable is kept as that, not thrown.
import { describe, expect, it } from "vitest";
import { Distribution } from "../histogram.js";

describe("Distribution bounds", () => {
  it("never gives a percentile above the max", () => {
    const d = new Distribution(1000, 600_000);
    d.record(17_063.4);
    const s = d.summary();
    expect(s.max).toBe(17_063.4);
    expect(s.p50).toBeLessThanOrEqual(s.max);
    expect(s.p99).toBeLessThanOrEqual(s.max);
  });

  it("keeps a value past the highest trackable as that value", () => {
    const d = new Distribution(1000, 10);
    expect(() => d.record(1e300)).not.toThrow();
    expect(d.summary()).toMatchObject({ count: 1, max: 10 });
  });
});
