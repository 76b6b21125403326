/**
 * What the twins store says when the system refuses it its own file (EACCES, EPERM: twins.json or
 * twins.journal copied in by another user, a service moved to another account): the file's owner and
 * mode, and the user the service runs as, so that the owner or the mode is fixed. The file is whole,
 * and the hint for a damaged one (restore it from a backup, or move it away, which loses the pending
 * sets and pairings of offline nodes) would have lost state for nothing.
 */
import { stat } from "node:fs/promises";
import { dirname } from "node:path";

/** Whom a file belongs to and its permission bits, as `ls -ln` and `chmod` name them. */
export interface Ownership {
  readonly uid: number;
  readonly gid: number;
  readonly mode: number;
}

/** The user and group this process runs as (undefined where the system has none: Windows). */
export interface RunningAs {
  readonly uid: number | undefined;
  readonly gid: number | undefined;
}

const thisProcess = (): RunningAs => ({ uid: process.getuid?.(), gid: process.getgid?.() });

/** True for the errors of a file the system refuses this user: EACCES, EPERM. */
export function isPermissionError(e: unknown): boolean {
  const code = (e as { code?: unknown } | undefined)?.code;
  return code === "EACCES" || code === "EPERM";
}

const octal = (mode: number): string => (mode & 0o7777).toString(8).padStart(4, "0");

/**
 * The sentence for `what` (a file, or the directory it is in) refused to the service: its owner and
 * mode, the user the service runs as, and the two ways out.
 */
export function permissionMessage(what: string, of: Ownership, as: RunningAs, isDir = false): string {
  const who =
    as.uid === undefined
      ? "this service's user"
      : `uid ${as.uid}${as.gid === undefined ? "" : ` (gid ${as.gid})`}`;
  const fix =
    as.uid === of.uid
      ? `let its owner read and write it (chmod ${isDir ? "u+rwx" : "u+rw"} ${what})`
      : `give it to the service's user (chown ${as.uid ?? "<the service's uid>"} ${what}), or run the service as uid ${of.uid}`;
  return (
    `${what} is owned by uid ${of.uid} (gid ${of.gid}) with mode ${octal(of.mode)}, and this service runs as ${who}: ` +
    `${fix}; the file is left as it is and nothing in it is lost (it is not damaged: neither move it away nor restore a backup)`
  );
}

/**
 * For a permission error on `file`: the sentence naming its owner, mode and this process's user
 * (the directory's, when the file itself cannot be looked at); undefined for any other error.
 */
export async function permissionHint(
  file: string,
  e: unknown,
  as: RunningAs = thisProcess(),
): Promise<string | undefined> {
  if (!isPermissionError(e)) return undefined;
  for (const [what, isDir] of [
    [file, false],
    [dirname(file), true],
  ] as const) {
    try {
      const s = await stat(what);
      return permissionMessage(what, s, as, isDir);
    } catch {
      // Not to be looked at either: its directory is named instead.
    }
  }
  return `permission denied on ${file}: fix the owner or mode of the file and its directory for uid ${as.uid ?? "of the service"}; the file is left as it is`;
}
