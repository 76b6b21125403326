/**
 * The `twinfleet` command line: builds the commander program from one module per subcommand and
 * runs it. `main(argv)` is what the bin calls and what tests drive. Exit codes (cli/errors.ts): 2 for
 * a usage error, 1 for a runtime failure. Every password a command learns is masked in all output.
 */

import { Command, CommanderError } from "commander";
import { OptionError } from "../protocol/option-error.js";
import type { UserStream } from "../protocol/user-file.js";
import { registerBrokerCommand } from "./commands/broker.js";
import { registerMonitorCommand } from "./commands/monitor.js";
import type { OneShotClock } from "./commands/one-shot-wait.js";
import { registerReportCommand } from "./commands/report.js";
import { registerSimCommand } from "./commands/sim.js";
import { registerSweepCommand } from "./commands/sweep.js";
import { registerTwinsCommands } from "./commands/twins.js";
import type { Env } from "./connection.js";
import { EXIT_RUNTIME, EXIT_USAGE } from "./errors.js";
import { fileLimitError, isFileLimitError } from "./file-limit.js";
import { checkFlagValues } from "./flag-values.js";
import { logOptions } from "./log-options.js";
import { maskSecrets } from "./mask.js";
import { VERSION } from "./version.js";

export interface CliIO {
  readonly stdout: (s: string) => void;
  readonly stderr: (s: string) => void;
  /** Environment variables (TWINFLEET_PASSWORD, …); default process.env. */
  readonly env?: Env;
  /** Registers a secret (a password): it is written as `***` in everything after. Set by main. */
  readonly secret?: (s: string | undefined) => void;
  /**
   * Sets the command's exit code, which main() returns (the bin hands it to the process). Set by
   * main: a command never writes process.exitCode, which would outlive an in-process call.
   */
  readonly exit?: (code: number) => void;
  /**
   * The clock the one-shot commands wait on and their stall watch (cli/commands/one-shot-wait.ts);
   * default the host's.
   */
  readonly clock?: OneShotClock;
  /**
   * stderr is a terminal (the bin: `process.stderr.isTTY`). Only then may a log line carry a secret
   * meant for the operator's eyes (a generated web token, cli/http.ts `tokenShown`); default no.
   */
  readonly stderrIsTerminal?: boolean;
  /** What a file named `-` reads (`report show -`); default process.stdin. */
  readonly stdin?: UserStream;
}

const defaultIO: CliIO = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  stderrIsTerminal: process.stderr.isTTY === true,
};

/** Each subcommand module exports a function that adds itself to the program. */
export type RegisterCommand = (program: Command, io: CliIO) => void;

export function buildProgram(io: CliIO = defaultIO): Command {
  const program = new Command("twinfleet")
    .description("Simulate, run and watch fleets of MQTT devices that keep a button/LED state in sync")
    .version(VERSION)
    .exitOverride();
  for (const option of logOptions()) program.addOption(option);
  for (const register of COMMANDS) register(program, io);
  nameErrors(program, "twinfleet", io);
  return program;
}

/**
 * The parser's own errors (an unknown option, a missing argument) as the commands' errors read:
 * `twinfleet sim: unknown option '--colour'` and the command's own help hint, not `error: …`.
 */
function nameErrors(command: Command, name: string, io: CliIO): void {
  command.showHelpAfterError(`(run ${name} --help for usage)`).configureOutput({
    writeOut: io.stdout,
    writeErr: io.stderr,
    outputError: (text, write) => write(text.replace(/^error: /, `${name}: `)),
  });
  for (const sub of command.commands) nameErrors(sub, `${name} ${sub.name()}`, io);
}

const COMMANDS: RegisterCommand[] = [
  registerSimCommand,
  registerBrokerCommand,
  registerTwinsCommands,
  registerMonitorCommand,
  registerSweepCommand,
  registerReportCommand,
];

/**
 * Errors that mean the command line was wrong, not that something failed while running: every
 * option error shares one base class (a bad flag, broker, twins or fleet option, profile, scenario,
 * fault schedule or pairing file).
 */
function isUsageError(e: unknown): boolean {
  return e instanceof OptionError;
}

/** `io` with every registered secret masked, a `secret` to register more, and `exit`. */
function maskingIO(io: CliIO, exit: (code: number) => void): CliIO {
  const secrets = new Set<string>();
  const mask = (s: string) => maskSecrets(s, secrets);
  return {
    stdout: (s) => io.stdout(mask(s)),
    stderr: (s) => io.stderr(mask(s)),
    env: io.env ?? process.env,
    secret: (s) => {
      if (s !== undefined && s.length > 0) secrets.add(s);
    },
    exit,
    ...(io.stderrIsTerminal !== undefined ? { stderrIsTerminal: io.stderrIsTerminal } : {}),
    ...(io.stdin !== undefined ? { stdin: io.stdin } : {}),
  };
}

/** Runs the CLI; resolves to the process exit code instead of exiting, so tests can call it. */
export async function main(argv: readonly string[], rawIO: CliIO = defaultIO): Promise<number> {
  let exitCode = 0;
  const io = maskingIO(rawIO, (code) => {
    exitCode = code;
  });
  const program = buildProgram(io);
  try {
    checkFlagValues(program, argv);
    await program.parseAsync(argv as string[], { from: "user" });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : EXIT_USAGE;
    const usage = isUsageError(e);
    const command = commandPath(program, argv);
    // Out of open files while loading the command's modules or starting: the limit, not (as Node
    // says it) a missing package (cli/file-limit.ts).
    if (isFileLimitError(e)) {
      io.stderr(`twinfleet${command}: ${fileLimitError(argv, `twinfleet${command}`)}\n`);
      return EXIT_RUNTIME;
    }
    io.stderr(`twinfleet${command}: ${e instanceof Error ? e.message : String(e)}\n`);
    if (usage) io.stderr(`(run twinfleet${command} --help for usage)\n`);
    return usage ? EXIT_USAGE : EXIT_RUNTIME;
  }
}

/** `twinfleet report merge` for `report merge a.json --out x`: how an error names the command. */
export function commandName(argv: readonly string[]): string {
  return `twinfleet${commandPath(buildProgram(), argv)}`;
}

/** ` report merge` for `report merge a.json --out x`: the (sub)commands named in argv, in order. */
function commandPath(program: Command, argv: readonly string[]): string {
  let path = "";
  let command = program;
  for (const a of argv) {
    const sub = a.startsWith("-") ? undefined : command.commands.find((c) => c.name() === a);
    if (sub === undefined) continue;
    path += ` ${sub.name()}`;
    command = sub;
  }
  return path;
}
