/**
 * Topic matching: the unsplit reader agrees with matching level by level, over every filter and
 * topic of up to five characters from `a`, `b`, `/` and `+` (empty levels, leading and trailing
 * slashes, `+` inside a level).
 */
import { describe, expect, it } from "vitest";
import { matches, matchesLevels, matchesTopic } from "../topic-match.js";

function* strings(n: number): Generator<string> {
  if (n === 0) {
    yield "";
    return;
  }
  for (const s of strings(n - 1)) for (const c of ["a", "b", "/", "+"]) yield s + c;
}

describe("topic matching", () => {
  it("matches a split filter against an unsplit topic as level-by-level matching does", () => {
    const all = [0, 1, 2, 3, 4, 5].flatMap((n) => [...strings(n)]);
    let disagreements = 0;
    let hits = 0;
    for (const f of all) {
      const levels = f.split("/");
      for (const t of all) {
        const want = matchesLevels(levels, t.split("/"));
        if (want) hits++;
        if (matchesTopic(levels, t) !== want) disagreements++;
      }
    }
    expect(hits).toBeGreaterThan(1000);
    expect(disagreements).toBe(0);
  });

  it("matches the fleet's filters", () => {
    expect(matches("tf/report/+", "tf/report/n-0001")).toBe(true);
    expect(matchesTopic("tf/report/+".split("/"), "tf/report/n-0001")).toBe(true);
    expect(matchesTopic("tf/report/+".split("/"), "tf/report/n-0001/x")).toBe(false);
    expect(matchesTopic("tf/report/+".split("/"), "tf/report")).toBe(false);
    expect(matchesTopic("tf/+/n-1".split("/"), "tf/config/n-1")).toBe(true);
    expect(matchesTopic("tf/+/n-1".split("/"), "tf/config/n-10")).toBe(false);
  });
});
