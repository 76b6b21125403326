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
// Before the rest loads too, and after the holds (an import() here, as a static one would load
// before them): loading the rest takes more open files than a low `ulimit -n` allows, and its
// failure then named a package as missing (cli/file-limit.ts, which imports node's own alone).
const { commandWords, fileLimitError, isFileLimitError, readLimits, startNeed, tooFewFiles } = await import(
  "./file-limit.js"
);
const argv = process.argv.slice(2);
// The (sub)command whose need is checked (`broker hash-password`), else the first word.
const firstWord = startNeed(argv)?.command ?? commandWords(argv)[0];
const name = `twinfleet${firstWord === undefined ? "" : ` ${firstWord}`}`;
// Read now (cli/file-limit.ts keeps it): at the limit, reading it again needs a file.
const short = tooFewFiles(argv, readLimits());
if (short !== undefined) stopShort(short);
const [{ hungUpTerminal }, { commandName, main }, { exitAfterOutput, guardOutput }] = await Promise.all([
  import("./hung-up.js"),
  import("./main.js"),
  import("./output.js"),
]).catch((e: unknown) => {
  if (!isFileLimitError(e)) throw e;
  return stopShort(fileLimitError(argv, name));
});

/** Says `line` on stderr (the output guards are not loaded yet) and exits 1. */
function stopShort(line: string): never {
  process.stderr.write(`${name}: ${line}\n`);
  process.exit(1);
}

const onTerminal = process.stdout.isTTY === true;
const stdout = guardOutput(process.stdout);
const stderr = guardOutput(process.stderr);
const releaseHungUpTerminal = hungUpTerminal();
const code = await main(argv, {
  stdout: stdout.write,
  stderr: stderr.write,
  stderrIsTerminal: process.stderr.isTTY === true,
});
await stdout.settled();
process.exitCode = exitAfterOutput(code, stdout.failure(), commandName(argv), stderr.write, onTerminal);
releaseHungUpTerminal();
