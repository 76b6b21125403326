/**
 * Whether a process lives, by its pid: for what a process leaves behind it (a lock, a temporary
 * file, a network namespace) and must be cleared once it is gone.
 */

import { readFileSync } from "node:fs";

/** Signal 0 reaches it, or it exists and is not ours to signal (EPERM). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Who a process is, beyond its pid, which the kernel hands out again (after a reboot, or once pids
 * wrap): this boot's id and the process's start time (clock ticks since boot, /proc/PID/stat field
 * 22). Undefined where /proc does not tell (not Linux, or the process is gone).
 */
export function processIdentity(pid: number): string | undefined {
  try {
    const boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its end.
    const start = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
    return start === undefined || boot === "" ? undefined : `${boot}/${start}`;
  } catch {
    return undefined;
  }
}

/**
 * Whether the process a lock or a file names is still the one that wrote it: alive with that pid,
 * and, when the writer recorded its identity, the same process (not a later one given its pid).
 */
export function writerAlive(pid: number, identity: string | undefined): boolean {
  if (!processAlive(pid)) return false;
  if (identity === undefined) return true;
  const now = processIdentity(pid);
  return now === undefined || now === identity;
}
