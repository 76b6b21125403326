/** A process's resident memory read at the open-files limit is unknown, not a crash. */
import { expect, it } from "vitest";
import { processRssMB } from "../rss.js";

it("reads the resident memory in MB", () => {
  expect(processRssMB(() => 3 * 2 ** 20)).toBe(3);
  expect(processRssMB()).toBeGreaterThan(0);
});

it("is unknown when the open-files limit refuses its read, as Node's EMFILE says it", () => {
  const emfile = () => {
    throw new Error("EMFILE: too many open files, uv_resident_set_memory");
  };
  expect(processRssMB(emfile)).toBeUndefined();
});

it("throws any other failure", () => {
  expect(() =>
    processRssMB(() => {
      throw new Error("other");
    }),
  ).toThrow("other");
});
