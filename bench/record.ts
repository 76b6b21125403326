/**
 * Benchmark output: one JSON line on stdout per result, and a copy under bench/results/ with the
 * date, so figures can be traced to the run that produced them.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { UsageError } from "../cli/errors.js";
import { numberFlag, wholeNumberFlag } from "../cli/fleet-flags.js";

export function arg(argv: readonly string[], flag: string, fallback: string): string {
  const i = argv.indexOf(flag);
  return i >= 0 && argv[i + 1] !== undefined ? (argv[i + 1] as string) : fallback;
}

/** The median of `xs` (the mean of the two middle values of an even count); refuses none. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError("median of no values");
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** A number flag, parsed as the CLI parses one: a value that is not a number is refused, naming the flag. */
export function numArg(argv: readonly string[], flag: string, fallback: number): number {
  const i = argv.indexOf(flag);
  return i >= 0 && argv[i + 1] !== undefined
    ? (numberFlag(flag, argv[i + 1], "a number") ?? fallback)
    : fallback;
}

/**
 * `--duration S` when given: seconds of presses, a whole number from 5 to 86400 (a bench whose runs
 * have lengths of their own, `faults`, keeps them without it). A bad value is refused, naming the flag.
 */
export function durationArg(argv: readonly string[]): number | undefined {
  if (!argv.includes("--duration")) return undefined;
  return wholeNumberFlag("--duration", arg(argv, "--duration", ""), 5, 86_400);
}

/** A comma-separated list of names, each one of `known`: a misspelt name is refused, naming the flag. */
export function namesArg(
  argv: readonly string[],
  flag: string,
  fallback: string,
  known: readonly string[],
): string[] {
  const names = arg(argv, flag, fallback)
    .split(",")
    .map((s) => s.trim());
  const wrong = names.filter((n) => !known.includes(n));
  if (wrong.length > 0) {
    throw new UsageError(
      `${flag}: unknown ${wrong.map((n) => `"${n}"`).join(", ")}; one or more of ${known.join(",")}`,
    );
  }
  return names;
}

export function record(name: string, result: object): void {
  const out = {
    bench: name,
    at: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, memGB: Math.round(totalmem() / 2 ** 30) },
    node: process.version,
    ...result,
  };
  const dir = new URL("./results/", import.meta.url);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    new URL(`${name}-${out.at.replace(/[:.]/g, "-")}.json`, dir),
    `${JSON.stringify(out, null, 2)}\n`,
  );
  console.log(JSON.stringify(out));
}
