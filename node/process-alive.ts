/**
 * Whether a process lives, by its pid: for what a process leaves behind it (a lock, a temporary
 * file, a network namespace) and must be cleared once it is gone.
 */

import { readFileSync } from "node:fs";

/**
 * Signal 0 reaches it, or it exists and is not ours to signal (EPERM), and it has not ended: a
 * process killed (kill -9) whose parent has not reaped it yet is a zombie, which signal 0 still
 * reaches, holding nothing but its pid. Taken for alive, it kept its lock: a twins service started
 * on the directory at once, or under a parent that never reaps (a container's shell as pid 1),
 * stopped on "in use by another twins service (pid N)" of the dead one.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  return !ended(pid);
}

/** /proc/PID/stat's state (field 3) is Z (zombie) or X (dead); false where /proc does not tell. */
function ended(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state === "Z" || state === "X";
  } catch {
    return false;
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
 * Without an identity (a file of a build that wrote only the pid), given when the file was written
 * (`writtenAtMs`, its mtime): not the writer when /proc shows a process that is no Node.js program
 * and started after the file was written — the pid was handed out again (a reboot). A Node.js
 * process, or one that started before, may be the writer: still taken for it.
 */
export function writerAlive(pid: number, identity: string | undefined, writtenAtMs?: number): boolean {
  if (!processAlive(pid)) return false;
  if (identity === undefined) return writtenAtMs === undefined || !handedOutSince(pid, writtenAtMs);
  const now = processIdentity(pid);
  return now === undefined || now === identity;
}

/** /proc counts a process's start in USER_HZ ticks, 100 a second on Linux's architectures. */
const TICKS_PER_S = 100;
/** Allowance for btime's whole seconds and a file's mtime granularity. */
const START_SLACK_MS = 2000;

/** `pid` is held by a process that is not Node.js and started after `sinceMs` (a date). */
function handedOutSince(pid: number, sinceMs: number): boolean {
  try {
    const name = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
    if (name.startsWith("node")) return false;
    const btime = /^btime (\d+)$/m.exec(readFileSync("/proc/stat", "utf8"))?.[1];
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const ticks = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
    if (btime === undefined || ticks === undefined) return false;
    const startedAt = Number(btime) * 1000 + (Number(ticks) * 1000) / TICKS_PER_S;
    return startedAt > sinceMs + START_SLACK_MS;
  } catch {
    return false;
  }
}

/** The line a lock file starts with: this process's pid and who it is (`<pid> <identity>`). */
export function lockLine(): string {
  return `${process.pid} ${processIdentity(process.pid) ?? ""}`;
}

/** A lock file's writer, as its first line names it: its pid (NaN if unreadable) and identity. */
export function lockWriter(text: string): { pid: number; identity: string | undefined } {
  const [pidText = "", identity] = (text.split("\n")[0] ?? "").trim().split(/\s+/);
  return { pid: Number.parseInt(pidText, 10), identity: identity || undefined };
}

/** The lock's writer is another process that still runs (its file written at `writtenAtMs`). */
export function lockHeld(w: { pid: number; identity: string | undefined }, writtenAtMs?: number): boolean {
  return (
    Number.isInteger(w.pid) &&
    w.pid > 0 &&
    w.pid !== process.pid &&
    writerAlive(w.pid, w.identity, writtenAtMs)
  );
}
