/**
 * The process's open files against its limit (`ulimit -n`), read from /proc/self: every socket is one,
 * and past the limit the operating system refuses the next (EMFILE; a listening socket's new
 * connections are closed unanswered). Linux only; elsewhere undefined. A fleet checks it before its
 * nodes connect (fleet/open-files.ts), a standalone broker watches it (broker/open-files-watch.ts).
 */
import { readdirSync, readFileSync } from "node:fs";

export interface OpenFiles {
  /** The soft limit: what this process may open (Node raises it to the hard limit at start). */
  readonly limit: number;
  readonly hard: number;
  /** Open now. */
  readonly open: number;
}

/** Reads the limit and the count from /proc/self; undefined where there is no /proc (not Linux). */
export function readOpenFiles(proc = "/proc/self"): OpenFiles | undefined {
  let text: string;
  try {
    text = readFileSync(`${proc}/limits`, "utf8");
  } catch {
    return undefined;
  }
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
  if (!m) return undefined;
  const num = (s: string | undefined) => (s === "unlimited" ? Number.POSITIVE_INFINITY : Number(s));
  const limit = num(m[1]);
  const hard = num(m[2]);
  if (Number.isNaN(limit) || Number.isNaN(hard)) return undefined;
  const open = countOpenFiles(proc);
  if (open === undefined) return undefined;
  return { limit, hard, open: open === "full" ? limit : open };
}

/**
 * The files open now; "full" when not even the directory listing them can be opened (the limit is
 * reached: EMFILE, or the system's ENFILE); undefined where there is no /proc.
 */
export function countOpenFiles(proc = "/proc/self"): number | "full" | undefined {
  try {
    return readdirSync(`${proc}/fd`).length;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === "EMFILE" || code === "ENFILE" ? "full" : undefined;
  }
}
