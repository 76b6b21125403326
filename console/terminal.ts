/**
 * The process guard: while the console owns the terminal, a signal closes it cleanly and an
 * uncaught error gives the terminal back before it is reported — never a shell left in raw mode.
 */

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
type GuardedSignal = (typeof SIGNALS)[number];

/**
 * How the console closed: the user quit (`q`, Ctrl-C, SIGINT), SIGTERM or SIGHUP, its terminal hung
 * up (its input ended, with or without a SIGHUP), or the program called close().
 */
export type ConsoleEnd = "quit" | Exclude<GuardedSignal, "SIGINT"> | "hung up" | "closed";

/** Installs the handlers; returns the function that removes them. */
export function guardProcess(
  onSignal: (signal: GuardedSignal) => void,
  onError: (e: unknown) => void,
): () => void {
  const signal = (s: NodeJS.Signals) => onSignal(s as GuardedSignal);
  const error = (e: unknown) => onError(e);
  for (const s of SIGNALS) process.on(s, signal);
  process.on("uncaughtException", error);
  process.on("unhandledRejection", error);
  return () => {
    for (const s of SIGNALS) process.off(s, signal);
    process.off("uncaughtException", error);
    process.off("unhandledRejection", error);
  };
}

/** Inputs that already ignore EIO. */
const tolerant = new WeakSet<NodeJS.ReadableStream>();

/**
 * A terminal that hangs up (its window closed, its tmux session killed) ends the console's input,
 * whether or not a SIGHUP follows: `onEnd` runs then. Only for a terminal; returns the remover.
 * Putting such a terminal back out of raw mode fails with EIO, which the input emits as an error (a
 * crash, with no report written, if nothing listens): it is ignored, for good, as there is nothing
 * left to put back.
 */
export function onHangUp(input: NodeJS.ReadableStream, onEnd: () => void, ownsSignals = false): () => void {
  if ((input as { isTTY?: boolean }).isTTY !== true) return () => {};
  if (!tolerant.has(input)) {
    tolerant.add(input);
    input.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code !== "EIO") throw e;
    });
  }
  // With the process's signals its own (`ownsSignals`), the SIGHUP that follows a hang-up is taken
  // once: the console closes on the input's end and takes its signal handlers down, and that SIGHUP
  // then killed the process (exit 129) as it was finishing, before it could exit 130 as told.
  const ended = () => {
    if (ownsSignals) process.once("SIGHUP", followingHangUp);
    onEnd();
  };
  input.once("end", ended);
  return () => input.off("end", ended);
}

/** The SIGHUP after a terminal's hang-up, taken once: the process is already finishing. */
export function followingHangUp(): void {}

/**
 * Why the console cannot run on these streams, or undefined when it can: it draws on stdout and
 * reads its keys from stdin, both a terminal, and it moves the cursor, which TERM=dumb cannot (it
 * drew every frame after the last, a screenful of characters with no boxes). With stdin not a
 * terminal (`< /dev/null`, a pipe) it drew, but no key reached it and the typed ones were echoed over
 * its frames; only a signal ended it.
 */
export function whyNoConsole(
  stdin: { readonly isTTY?: boolean },
  stdout: { readonly isTTY?: boolean },
  env: NodeJS.ProcessEnv,
): string | undefined {
  if (stdout.isTTY !== true) return "stdout is not one";
  if (stdin.isTTY !== true) return "stdin is not one (the console reads its keys there)";
  if (env.TERM === "dumb") return "TERM=dumb cannot move the cursor";
  return undefined;
}
