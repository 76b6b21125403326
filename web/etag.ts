/**
 * The nodes' entity tags (`ETag`, `If-Match`): a node's version and the start of the server that
 * served it, `"12-0k3f9a2c1x"`. A twin's version counts from the start of its twins service, so a
 * `twinfleet twins --http` stopped and started again served the same tags counted anew: a write
 * holding an `ETag` read before the restart matched whatever state the node had reached that
 * version with since (n-0001 was `"7"` before a SIGTERM and `"7"` again 5 s after), one its sender
 * never saw. The start is 48 random bits drawn as the
 * server starts, kept nowhere: a restart, a kill -9 or a read-only data directory all give a new one,
 * and a tag from before a restart is a 412 (read again), never a match.
 */
import { randomBytes } from "node:crypto";

/** A node's `ETag` at `version`, quoted. */
export type TagOf = (version: number) => string;

/** A new server start: 10 base-36 characters from 48 random bits. */
export function newServerStart(): string {
  return randomBytes(6).readUIntBE(0, 6).toString(36).padStart(10, "0");
}

/** The tags of the server started as `start` (letters, digits: nothing a quoted tag cannot carry). */
export function tagsOf(start: string): TagOf {
  if (!/^[0-9a-z]+$/.test(start)) throw new Error(`a server start is base-36 characters, not ${start}`);
  return (version) => `"${version}-${start}"`;
}
