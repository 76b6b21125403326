/**
 * Whether a process lives, by its pid: for what a process leaves behind it (a lock, a temporary
 * file, a network namespace) and must be cleared once it is gone.
 */

/** Signal 0 reaches it, or it exists and is not ours to signal (EPERM). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
