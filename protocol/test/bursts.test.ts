/**
 * Bursts (protocol/bursts.ts): a key's burst told at most once per repeat, and keys forgotten.
 */
import { expect, it } from "vitest";
import { Bursts } from "../bursts.js";

it("tells a key's burst (count events within the window) at most once per repeat", () => {
  const b = new Bursts<string>(3, 1000, 5000);
  expect([b.hit("a", 0), b.hit("a", 400), b.hit("a", 900)]).toEqual([undefined, undefined, 900]);
  expect(b.hit("a", 950)).toBeUndefined(); // within the repeat
  expect([b.hit("b", 0), b.hit("b", 600), b.hit("b", 1200)]).toEqual([undefined, undefined, undefined]);
  expect([b.hit("a", 6000), b.hit("a", 6100), b.hit("a", 6200)]).toEqual([undefined, undefined, 200]);
});

it("tells a key once ever without a repeat, and forgets the oldest key past maxKeys", () => {
  const once = new Bursts<string>(2, 1000);
  expect([once.hit("a", 0), once.hit("a", 10), once.hit("a", 1e9), once.hit("a", 1e9 + 1)]).toEqual([
    undefined,
    10,
    undefined,
    undefined,
  ]);
  const few = new Bursts<string>(2, 1000, Number.POSITIVE_INFINITY, 1);
  few.hit("a", 0);
  few.hit("b", 1); // "a" forgotten: its next event starts afresh
  expect(few.hit("a", 2)).toBeUndefined();
  expect(few.hit("a", 3)).toBe(1);
});

it("forgets a key on demand: its next event starts afresh", () => {
  const b = new Bursts<string>(2, 1000);
  b.hit("a", 0);
  b.forget("a");
  expect(b.size).toBe(0);
  expect(b.hit("a", 1)).toBeUndefined();
  expect(b.hit("a", 2)).toBe(1);
});
