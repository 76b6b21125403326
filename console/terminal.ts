/**
 * The process guard: while the console owns the terminal, a signal closes it cleanly and an
 * uncaught error gives the terminal back before it is reported — never a shell left in raw mode.
 */

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/** Installs the handlers; returns the function that removes them. */
export function guardProcess(onSignal: (signal: string) => void, onError: (e: unknown) => void): () => void {
  const signal = (s: NodeJS.Signals) => onSignal(s);
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
