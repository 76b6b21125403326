// Numbers in flags are plain decimal in every layer (protocol/decimal.ts).
import { describe, expect, it } from "vitest";
import { decimalHint, isDecimal, isWholeDecimal } from "../decimal.js";

describe("plain decimal", () => {
  it("takes digits with an optional minus sign and fraction, no leading zero", () => {
    for (const ok of ["0", "7", "42", "-1", "-0", "0.5", "2.25", "100000"])
      expect(isDecimal(ok), ok).toBe(true);
    for (const ok of ["0", "7", "1883"]) expect(isWholeDecimal(ok), ok).toBe(true);
    for (const bad of ["-1", "1.5", "01", "+1", " 1"]) expect(isWholeDecimal(bad), bad).toBe(false);
  });

  it("refuses what Number() would read in another form, and says why", () => {
    for (const bad of [
      "0x10",
      "0o10",
      "0b11",
      "010",
      "1e3",
      "1E3",
      " 16",
      "16 ",
      "\t16",
      "+16",
      "16.",
      ".5",
    ]) {
      expect(isDecimal(bad), bad).toBe(false);
      expect(decimalHint(bad), bad).toContain("plain decimal digits only");
    }
    for (const bad of ["", "abc", "1_000", "Infinity", "NaN", "1,5"]) {
      expect(isDecimal(bad), bad).toBe(false);
      expect(decimalHint(bad), bad).toBe("");
    }
  });
});
