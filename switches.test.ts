/**
 * The exhaustive-switch check (`scripts/switches.ts`), which `npm run typecheck` runs on the whole
 * tree: here on small programs held in memory, to show what it finds and what it lets pass.
 */
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { switchProblems } from "./scripts/switches.js";

const ROOT = "/virtual";

/** A program of one file `m.ts` holding `source`, checked without the standard library. */
function program(source: string): ts.Program {
  const file = `${ROOT}/m.ts`;
  const options: ts.CompilerOptions = {
    noLib: true,
    types: [],
    strict: true,
    target: ts.ScriptTarget.ES2022,
  };
  const host = ts.createCompilerHost(options);
  host.getSourceFile = (name, lang) =>
    name === file ? ts.createSourceFile(name, source, lang, true) : undefined;
  host.fileExists = (name) => name === file;
  host.readFile = (name) => (name === file ? source : undefined);
  return ts.createProgram([file], options, host);
}

const HEAD = `type Kind = "a" | "b" | "c";
declare function assertNever(x: never): never;
`;

describe("the exhaustive-switch check", () => {
  it("passes a switch ending in assertNever, and a catch-all that leaves members out", () => {
    const src = `${HEAD}
export function f(k: Kind): number {
  switch (k) {
    case "a": return 1;
    case "b": return 2;
    case "c": return 3;
    default: return assertNever(k);
  }
}
export function g(k: Kind): number {
  switch (k) {
    case "a": return 1;
    default: return 0;
  }
}
export function h(n: number): number {
  switch (n) {
    case 1: return 1;
  }
  return 0;
}`;
    expect(switchProblems(program(src), ROOT)).toEqual([]);
  });

  it("names a switch on a union without a default", () => {
    const src = `${HEAD}
export function f(k: Kind): number {
  switch (k) {
    case "a": return 1;
  }
  return 0;
}`;
    expect(switchProblems(program(src), ROOT)).toEqual([
      "m.ts:5 switch (k) has no default: end it with `default: assertNever(...)`",
    ]);
  });

  it("names a catch-all that every member already has a case for", () => {
    const src = `${HEAD}
export function f(k: Kind): number {
  switch (k) {
    case "a": return 1;
    case "b": return 2;
    case "c": return 3;
    default: throw new Error("never");
  }
}
export function g(on: boolean): number {
  switch (on) {
    case true: return 1;
    case false: return 0;
    default: return -1;
  }
}`;
    expect(switchProblems(program(src), ROOT)).toEqual([
      "m.ts:5 switch (k) has a case for every member: its default should be `assertNever(...)`",
      "m.ts:13 switch (on) has a case for every member: its default should be `assertNever(...)`",
    ]);
  });
});
