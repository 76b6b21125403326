/**
 * This process's resident memory, as a run reports it. Linux reads it from /proc/self/stat, a file
 * like any other: at the open-files limit process.memoryUsage() throws EMFILE, and a run's timer
 * that read it crashed the process with a stack trace. Unreadable, it is unknown instead.
 */

/** Resident memory, MB; undefined when it cannot be read (EMFILE, ENFILE). */
export function processRssMB(read: () => number = () => process.memoryUsage.rss()): number | undefined {
  try {
    return read() / 2 ** 20;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EMFILE" || code === "ENFILE" || /\bE[MN]FILE\b/.test((e as Error).message))
      return undefined;
    throw e;
  }
}
