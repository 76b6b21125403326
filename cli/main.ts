/**
 * The `twinfleet` command line: builds the commander program from one module per subcommand and
 * runs it. `main(argv)` is what the bin calls and what tests drive.
 */
import { Command, CommanderError } from "commander";
import { registerBrokerCommand } from "./commands/broker.js";
import { registerMonitorCommand } from "./commands/monitor.js";
import { registerSimCommand } from "./commands/sim.js";
import { registerSweepCommand } from "./commands/sweep.js";
import { registerTwinsCommands } from "./commands/twins.js";
import { VERSION } from "./version.js";

export interface CliIO {
  readonly stdout: (s: string) => void;
  readonly stderr: (s: string) => void;
}

const defaultIO: CliIO = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
};

/** Each subcommand module exports a function that adds itself to the program. */
export type RegisterCommand = (program: Command, io: CliIO) => void;

export function buildProgram(io: CliIO = defaultIO): Command {
  const program = new Command("twinfleet")
    .description("Simulate, run and watch fleets of MQTT devices that keep a button/LED state in sync")
    .version(VERSION)
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride();
  for (const register of COMMANDS) register(program, io);
  return program;
}

const COMMANDS: RegisterCommand[] = [
  registerSimCommand,
  registerBrokerCommand,
  registerTwinsCommands,
  registerMonitorCommand,
  registerSweepCommand,
];

/** Runs the CLI; resolves to the process exit code instead of exiting, so tests can call it. */
export async function main(argv: readonly string[], io: CliIO = defaultIO): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv as string[], { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    io.stderr(`twinfleet: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
