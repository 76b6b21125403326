/**
 * `twinfleet` as the tests start it in a process of its own: node's arguments up to the CLI's file,
 * the compiled copy of the sources the suite made (scripts/test-compiled.ts), or the sources under
 * tsx when there is none.
 */
import { fileURLToPath } from "node:url";
import { startable } from "../paths.js";

/** Node's arguments before the CLI's own. */
export function cliArgs(): string[] {
  const cli = startable("cli/bin");
  return [...cli.execArgv, fileURLToPath(cli.url)];
}

/** Node and those arguments as the start of a shell command line (tmux, `sh -c`). */
export function cliCommand(): string {
  return [process.execPath, ...cliArgs()].map((a) => `"${a}"`).join(" ");
}
