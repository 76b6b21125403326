/**
 * A flag that takes a value swallows whatever follows it, even another flag: `sim --seed --headless`
 * ran with the seed "--headless" and without --headless, and `nodes --broker --wait 300` failed on
 * "too many arguments". Before the command line is parsed, a flag followed by one of the command's
 * own flags where its value should be is refused as a usage error naming both. A value given with
 * `=` (`--seed=--headless`) is meant and passes. A flag that takes one value given twice
 * (`broker --port 1 --port 2`) is refused too, naming both values: the parser would keep the last
 * without a word. A repeatable flag (`--deny-subscribe`) collects its values and may repeat. A value
 * not among a flag's choices is refused here, quoted back cut short (protocol/shown.ts).
 */
import type { Command, Option } from "commander";
import { OptionError } from "../protocol/option-error.js";
import { shown } from "../protocol/shown.js";

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
    const option = options.find((o) => (o.long === name || o.short === name) && o.required);
    if (option === undefined || option.variadic) continue;
    const value = inline ?? argv[i + 1] ?? "";
    // The parser would quote a wrong choice back whole, however long: say it here, cut short.
    const choices = option.argChoices;
    if (choices !== undefined && !choices.includes(value) && (inline !== undefined || !flags.has(value)))
      throw new OptionError(`${option.long}: must be ${choices.join(", ")}, got ${shown(value)}`);
    if (option.parseArg === undefined) {
      const before = given.get(option);
      if (before !== undefined)
        throw new OptionError(
          `${option.long}: given twice (${shown(before)} and ${shown(value)}): give it once`,
        );
      given.set(option, value);
    }
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
