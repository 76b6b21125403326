#!/usr/bin/env node
/**
 * The `twinfleet` executable: hands argv to main() and exits with its code. Output that cannot be
 * written ends the output, not the command (cli/output.ts): a reader that goes away early
 * (`twinfleet sim --help | head`), a terminal that is gone (its window closed, its tmux session
 * killed: writes fail with EIO) or a log destination that fails drops what is left to print instead
 * of a crash on EPIPE, EIO or ENOSPC: the run that SIGHUP cut short still writes its report. Results
 * lost on stdout for another reason than their reader going away make the exit code 1.
 */
import { holdHangUps, holdStops, holdsHangUps, stopsHeld } from "./early-hang-ups.js";

// Before the rest of the CLI loads (static imports would all load first): a service's SIGHUP in the
// meantime must not end it, nor a stop end a service or a run half-started (cli/early-hang-ups.ts).
if (holdsHangUps(process.argv.slice(2))) holdHangUps();
holdStops(stopsHeld(process.argv.slice(2)));
const [{ hungUpTerminal }, { commandName, main }, { exitAfterOutput, guardOutput }] = await Promise.all([
  import("./hung-up.js"),
  import("./main.js"),
  import("./output.js"),
]);

const onTerminal = process.stdout.isTTY === true;
const stdout = guardOutput(process.stdout);
const stderr = guardOutput(process.stderr);
const argv = process.argv.slice(2);
const releaseHungUpTerminal = hungUpTerminal();
const code = await main(argv, {
  stdout: stdout.write,
  stderr: stderr.write,
  stderrIsTerminal: process.stderr.isTTY === true,
});
await stdout.settled();
process.exitCode = exitAfterOutput(code, stdout.failure(), commandName(argv), stderr.write, onTerminal);
releaseHungUpTerminal();
