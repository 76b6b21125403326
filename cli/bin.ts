#!/usr/bin/env node
/**
 * The `twinfleet` executable: hands argv to main() and exits with its code. A reader that goes away
 * early (`twinfleet sim --help | head`) ends the output, not the command: what is left to print is
 * dropped, as it would be on a closed terminal, instead of a crash on EPIPE.
 */
import { main } from "./main.js";

for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code !== "EPIPE" && err.code !== "ERR_STREAM_DESTROYED") throw err;
  });
}

process.exitCode = await main(process.argv.slice(2));
