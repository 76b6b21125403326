// A virtual run's worker threads get the semi-space asked of the process, and at least 64 MB: a
// worker with resource limits would otherwise get V8's default, whatever --max-semi-space-size says.
import { describe, expect, it } from "vitest";
import { PART_SEMI_SPACE_MIN_MB, partYoungGenerationMB, semiSpaceAskedMB } from "../part-young.js";

describe("a part's young generation", () => {
  it("reads --max-semi-space-size from node's flags and NODE_OPTIONS, the last one given", () => {
    expect(semiSpaceAskedMB([])).toBeUndefined();
    expect(semiSpaceAskedMB(["--max-old-space-size=8192"])).toBeUndefined();
    expect(semiSpaceAskedMB(["--max-semi-space-size=64"])).toBe(64);
    expect(semiSpaceAskedMB(["--max_semi_space_size=32", "--max-semi-space-size", "128"])).toBe(128);
    expect(semiSpaceAskedMB(["--max-semi-space-size=", "--max-semi-space-size=x"])).toBeUndefined();
    expect(partYoungGenerationMB([], "--max-old-space-size=8192 --max-semi-space-size=128")).toBe(192);
    expect(partYoungGenerationMB(["--max-semi-space-size=256"], "--max-semi-space-size=128")).toBe(384);
  });

  it("is at least 64 MB of semi-space (1.5 of it counted as young generation)", () => {
    expect(PART_SEMI_SPACE_MIN_MB).toBe(64);
    expect(partYoungGenerationMB([], undefined)).toBe(96);
    expect(partYoungGenerationMB(["--max-semi-space-size=16"], "")).toBe(96);
  });
});
