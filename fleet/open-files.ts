/**
 * Whether this process may open the sockets a fleet needs. Each node over TCP is one open file of
 * this process; past the open-files limit (`ulimit -n`) the operating system refuses the next socket
 * (EMFILE) and those nodes never connect. A fleet that cannot fit is refused before anything starts,
 * naming the limit and how to raise it, instead of a run whose nodes silently fail to register.
 * Linux only (node/open-files.ts reads /proc/self); elsewhere nothing is checked.
 */
import type { OpenFiles } from "../node/open-files.js";

/** Open files a run needs beside its nodes' sockets: the twins', the probe's, the web server's, log files. */
export const BASE_FILES = 32;
/** Open files each worker thread adds (its event loop's own descriptors). */
export const FILES_PER_THREAD = 4;

/** The fleet does not fit under the process's open-files limit. */
export class OpenFilesError extends Error {
  override readonly name = "OpenFilesError";
}

/**
 * Throws OpenFilesError when `sockets` more (one per node over TCP, in `threads` worker threads) do
 * not fit under the limit; `files` is node/open-files.ts readOpenFiles()'s answer (undefined: nothing to check).
 */
export function checkOpenFiles(sockets: number, threads: number, files: OpenFiles | undefined): void {
  if (!files || sockets === 0) return;
  const overhead = BASE_FILES + FILES_PER_THREAD * threads;
  const need = files.open + sockets + overhead;
  if (need <= files.limit) return;
  const fits = Math.max(0, files.limit - files.open - overhead);
  const to = roundUp(need);
  const raise =
    files.hard > files.limit
      ? `\`ulimit -n ${Math.min(files.hard, to)}\``
      : `as root \`ulimit -n ${to}\` before starting, LimitNOFILE=${to} in a systemd unit, --ulimit nofile=${to} for a container`;
  throw new OpenFilesError(
    `${sockets} nodes over TCP need about ${need} open files, but this process may open ${files.limit} (\`ulimit -n\`; ${files.open} open now): raise the limit (${raise}), or run at most ${fits} nodes here and split a larger fleet over shards (docs/shards.md)`,
  );
}

/** A limit to suggest: the need rounded up to a power of two, at least 1024. */
function roundUp(n: number): number {
  let p = 1024;
  while (p < n) p *= 2;
  return p;
}
