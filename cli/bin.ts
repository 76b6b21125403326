#!/usr/bin/env node
/**
 * The `twinfleet` executable: hands argv to main() and exits with its code. A reader that goes away
 * early (`twinfleet sim --help | head`) ends the output, not the command: what is left to print is
 * dropped instead of a crash on EPIPE. So does a terminal that is gone (its window closed, its tmux
 * session killed: writes fail with EIO): the run that SIGHUP cut short still writes its report.
 */
import { hungUpTerminal } from "./hung-up.js";
import { main } from "./main.js";

/** What a write says when its reader is gone: a closed pipe, a hung-up terminal, a destroyed stream. */
const GONE = new Set(["EPIPE", "EIO", "ERR_STREAM_DESTROYED"]);

for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (!GONE.has(err.code ?? "")) throw err;
  });
}

const releaseHungUpTerminal = hungUpTerminal();
process.exitCode = await main(process.argv.slice(2));
releaseHungUpTerminal();
