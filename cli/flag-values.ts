/**
 * A flag that takes a value swallows whatever follows it, even another flag: `sim --seed --headless`
 * ran with the seed "--headless" and without --headless, and `nodes --broker --wait 300` failed on
 * "too many arguments". Before the command line is parsed, a flag followed by one of the command's
 * own flags where its value should be is refused as a usage error naming both. A value given with
 * `=` (`--seed=--headless`) is meant and passes. A flag that takes one value given twice
 * (`broker --port 1 --port 2`) is refused too, naming both values: the parser would keep the last
 * without a word. A repeatable flag (`--deny-subscribe`) collects its values and may repeat.
 */
import type { Command, Option } from "commander";
import { OptionError } from "../protocol/option-error.js";

/** The options of `command` and of every command above it (the global log flags). */
function optionsOf(command: Command): Option[] {
  const options: Option[] = [];
  for (let c: Command | null = command; c !== null; c = c.parent) options.push(...c.options);
  return options;
}

/** Throws an OptionError when a flag that takes a value is followed by another flag instead. */
export function checkFlagValues(program: Command, argv: readonly string[]): void {
  let command = program;
  for (const arg of argv) {
    const sub = command.commands.find((c) => c.name() === arg);
    if (sub !== undefined) command = sub;
  }
  const options = optionsOf(command);
  const flags = new Set<string>(["--help", "-h"]);
  for (const o of options) {
    if (o.long !== undefined) flags.add(o.long);
    if (o.short !== undefined) flags.add(o.short);
  }
  const given = new Map<Option, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--") return;
    const [name = "", inline] = arg.startsWith("--") && arg.includes("=") ? splitAt(arg) : [arg, undefined];
    const repeated = options.find((o) => (o.long === name || o.short === name) && o.required);
    if (repeated === undefined || repeated.parseArg !== undefined || repeated.variadic) continue;
    const value = inline ?? argv[i + 1] ?? "";
    const before = given.get(repeated);
    if (before !== undefined)
      throw new OptionError(
        `${repeated.long}: given twice (${shown(before)} and ${shown(value)}): give it once`,
      );
    given.set(repeated, value);
    if (inline === undefined) i++;
  }
  for (let i = 0; i + 1 < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--") return;
    const option = options.find((o) => o.long === arg || o.short === arg);
    if (option === undefined || !option.required) continue;
    const next = argv[i + 1] ?? "";
    const flag = next.split("=")[0] ?? next;
    if (flags.has(flag)) {
      throw new OptionError(
        `${arg}: needs a value, and the next word is the flag ${flag}: give ${arg} a value before it`,
      );
    }
    i++;
  }
}

/** `--flag=value` → the flag and the value (which may hold `=` itself). */
function splitAt(arg: string): [string, string] {
  const at = arg.indexOf("=");
  return [arg.slice(0, at), arg.slice(at + 1)];
}

/** A value as a message quotes it: JSON-escaped, at most 40 characters. */
function shown(v: string): string {
  return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
}
