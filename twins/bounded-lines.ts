/**
 * A data file of lines read one line at a time with each line bounded (twins/history-file.ts,
 * twins/store-journal.ts): a line longer than `maxLine` bytes (a hand's edit, another program's
 * output written over the file, a damaged disk) is passed over as it is read, its length and place
 * kept to name it, and each line is handed on as it ends, so that a start holds one ordinary line at
 * a time and what its reader keeps, never one line of hundreds of megabytes as a string, nor every
 * line of a file of millions. Only a regular file is read, here and by `readRegularFile` (a file
 * read whole, `twins.json`): a FIFO would block the start for ever (its open waits for a writer,
 * and a stop signal then waits on it too), a directory or a device is no data file.
 */
import { constants } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";

/** Where a line is in its file. */
export interface LineAt {
  /** Its number, from 0. */
  readonly index: number;
  /** The byte its first character is at. */
  readonly offset: number;
  /** Its length in bytes, without its newline. */
  readonly bytes: number;
  /** It ends in a newline: false for a last line cut short. */
  readonly ended: boolean;
}

/**
 * Hears a line: its text, or undefined when it is longer than the bound (not read). Returning false
 * stops the read there.
 */
export type EachLine = (line: string | undefined, at: LineAt) => boolean | undefined;

const CHUNK = 1024 * 1024;

/** Thrown for a path that is not a regular file, with `code` as Node's errors have it. */
export class NotAFileError extends Error {
  constructor(
    readonly code: "EISDIR" | "ENOTREG",
    what: string,
  ) {
    super(what);
  }
}

/**
 * Hands `each` every line of `file` in order, those over `maxLine` bytes as undefined; resolves to
 * the number of lines handed on. Throws as `open` does (ENOENT, EACCES) and NotAFileError for a
 * directory (EISDIR, "it is a directory"), a FIFO, a socket or a device (ENOTREG, naming which).
 */
export async function eachBoundedLine(file: string, maxLine: number, each: EachLine): Promise<number> {
  const fh = await openRegular(file);
  let index = 0;
  try {
    let parts: Buffer[] = [];
    let bytes = 0;
    let offset = 0;
    let stopped = false;
    /** Ends the line under way (its text in `parts`, or in `chunk` from `from` to `to` when it lies in one). */
    const end = (ended: boolean, chunk?: Buffer, from = 0, to = 0): void => {
      let line: string | undefined;
      if (bytes <= maxLine)
        line =
          parts.length === 0 && chunk !== undefined
            ? chunk.toString("utf8", from, to)
            : Buffer.concat(chunk !== undefined ? [...parts, chunk.subarray(from, to)] : parts).toString(
                "utf8",
              );
      if (each(line, { index, offset, bytes, ended }) === false) stopped = true;
      index++;
      offset += bytes + (ended ? 1 : 0);
      parts = [];
      bytes = 0;
    };
    const buf = Buffer.allocUnsafe(CHUNK);
    while (!stopped) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, null);
      if (bytesRead === 0) break;
      let at = 0;
      while (at < bytesRead && !stopped) {
        const nl = buf.indexOf(0x0a, at);
        const stop = nl < 0 || nl >= bytesRead ? bytesRead : nl;
        bytes += stop - at;
        if (stop === bytesRead) {
          // The line goes on in the next chunk: its piece is kept while it is within the bound.
          if (bytes <= maxLine) parts.push(Buffer.from(buf.subarray(at, stop)));
          else parts = [];
          break;
        }
        end(true, bytes <= maxLine ? buf : undefined, at, stop);
        at = stop + 1;
      }
    }
    if (!stopped && bytes > 0) end(false);
  } finally {
    await fh.close();
  }
  return index;
}

/** The text of `file`, read whole, when it is a regular file; throws as `eachBoundedLine` does. */
export async function readRegularFile(file: string): Promise<string> {
  const fh = await openRegular(file);
  try {
    return await fh.readFile("utf8");
  } finally {
    await fh.close();
  }
}

/** `file` opened to read, refused (closed, NotAFileError) unless it is a regular file. */
async function openRegular(file: string): Promise<FileHandle> {
  // O_NONBLOCK: a FIFO's open returns at once, to be refused below; reads of a regular file ignore it.
  const fh = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stat = await fh.stat();
    if (stat.isFile()) return fh;
    if (stat.isDirectory()) throw new NotAFileError("EISDIR", "it is a directory");
    const kind = stat.isFIFO() ? "a FIFO (named pipe)" : stat.isSocket() ? "a socket" : "a device";
    throw new NotAFileError("ENOTREG", `it is ${kind}, not a regular file`);
  } catch (e) {
    await fh.close();
    throw e;
  }
}
