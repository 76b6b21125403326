#!/usr/bin/env node
/**
 * The `twinfleet` executable: hands argv to main() and exits with its code. Output that cannot be
 * written ends the output, not the command (cli/output.ts): a reader that goes away early
 * (`twinfleet sim --help | head`) or a log destination that fails drops what is left to print, as a
 * closed terminal would, instead of a crash on EPIPE or ENOSPC; results lost on stdout for another
 * reason than a closed pipe make the exit code 1.
 */
import { commandName, main } from "./main.js";
import { exitAfterOutput, guardOutput } from "./output.js";

const stdout = guardOutput(process.stdout);
const stderr = guardOutput(process.stderr);
const argv = process.argv.slice(2);
const code = await main(argv, { stdout: stdout.write, stderr: stderr.write });
await stdout.settled();
process.exitCode = exitAfterOutput(code, stdout.failure(), commandName(argv), stderr.write);
