/** Spans past an hour made readable after their seconds (cli/duration-text.ts). */
import { expect, it } from "vitest";
import { hoursColumn, hoursOf } from "../duration-text.js";

it("adds hours and minutes from an hour on, and nothing below", () => {
  expect(hoursOf(3599.9)).toBe("");
  expect(hoursOf(3600)).toBe(" (1 h 0 min)");
  expect(hoursOf(82_800)).toBe(" (23 h 0 min)");
  expect(hoursOf(86_415)).toBe(" (24 h 0 min)");
  expect(hoursOf(5_430.5)).toBe(" (1 h 30 min)");
  expect(hoursOf(Number.NaN)).toBe("");
  expect(hoursColumn(59)).toBe("");
  expect(hoursColumn(5_430)).toBe(" ( 1 h 30 min)");
  expect(hoursColumn(82_800)).toBe(" (23 h  0 min)");
});
