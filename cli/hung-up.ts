/**
 * A terminal that hangs up under the command (its window closed, its tmux session killed, an ssh
 * connection dropped) leaves standard input and output on a tty that answers everything with EIO.
 * Node puts the terminal's settings back as the process exits and, on Node 20, aborts when it cannot:
 * an assertion, a native stack trace and SIGABRT instead of the command's exit code (130 for a run
 * that SIGHUP cut short, docs/cli.md). A descriptor that is closed by then is left alone, so the
 * ones whose terminal is gone are closed as the process exits, after everything else.
 */
import { closeSync } from "node:fs";
import { isatty } from "node:tty";

/**
 * Notes which standard descriptors are on a terminal now, at start-up; the function it returns makes
 * the process close, as it exits, those whose terminal has gone since. Called last, its exit handler
 * runs after any other.
 */
export function hungUpTerminal(fds: readonly number[] = [0, 1, 2]): () => void {
  const ttys = fds.filter((fd) => isatty(fd));
  return () => {
    if (ttys.length === 0) return;
    process.on("exit", () => {
      for (const fd of ttys) {
        if (isatty(fd)) continue;
        try {
          closeSync(fd);
        } catch {
          // closed already
        }
      }
    });
  };
}
