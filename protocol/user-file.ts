/**
 * Reading a file the user named — a flag's file, a report to merge, a profile, a schedule — the one
 * way: at most a size that suits its kind (so `/dev/zero` or a 2 GB file is refused, not read until
 * memory runs out), never a FIFO (it would wait for a writer forever), and a failure worded alike
 * wherever it happens: `<what>: cannot read <path>: no such file | permission denied | is a
 * directory | is a FIFO, not a file | larger than N MB`.
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from "node:fs";
import { OptionError } from "./option-error.js";
import { shownPath } from "./shown.js";

/** A file the user named could not be read; the message names what, the path and why. */
export class UserFileError extends OptionError {
  override readonly name: string = "UserFileError";
}

/** The size caps, by kind of file. */
export const FILE_LIMITS = {
  /** A PEM key, certificate or CA bundle (Debian's whole CA bundle is about 220 KB). */
  pem: 1 << 20,
  /** A hand-written settings file: a device profile, a fault schedule, a sweep scenario. */
  settings: 1 << 20,
  /** A file that grows with the fleet: a pairing file, a credentials file, a report (under the 512 MB a string may hold). */
  fleet: 500 << 20,
} as const;

export interface UserFileOptions {
  /** The most bytes the file may hold. */
  readonly maxBytes: number;
  /** What gave the file (`--faults`), put first in the message; none: the message starts at "cannot read". */
  readonly what?: string;
  /** The error to throw, made from the message (default: UserFileError). */
  readonly error?: (message: string) => Error;
}

const CODES: Readonly<Record<string, string>> = {
  ENOENT: "no such file",
  EACCES: "permission denied",
  EPERM: "permission denied",
  EISDIR: "is a directory",
  ENOTDIR: "a part of the path is not a directory",
  ENAMETOOLONG: "the name is too long",
  ELOOP: "too many symbolic links",
};

/** Why a read of a file failed, in the words every message uses (`no such file`, …). */
export function readProblem(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string") return CODES[code] ?? code;
  return err instanceof Error ? err.message : String(err);
}

/** `<what>: cannot read <path>: <why>`. */
export function cannotRead(path: string, why: string, what?: string): string {
  return `${what === undefined ? "" : `${what}: `}cannot read ${shownPath(path)}: ${why}`;
}

/** `bytes` as the limit reads: `1 MB`, `256 MB`, `65535 bytes`. */
export function sizeText(bytes: number): string {
  return bytes % (1 << 20) === 0 ? `${bytes / (1 << 20)} MB` : `${bytes} bytes`;
}

/**
 * Why `path` is not a file one may open and read, or undefined: missing, a directory, a FIFO or a
 * socket. A device (`/dev/zero`, `/dev/null`) may be read: the size cap stops an endless one.
 */
export function notAFile(path: string): string | undefined {
  try {
    const st = statSync(path);
    if (st.isDirectory()) return CODES.EISDIR;
    if (st.isFIFO()) return "is a FIFO, not a file";
    if (st.isSocket()) return "is a socket, not a file";
    return undefined;
  } catch (err) {
    return readProblem(err);
  }
}

/** The bytes of `path`, read no further than `maxBytes` + 1; any failure thrown as `options.error`. */
export function readUserFile(path: string, options: UserFileOptions): Buffer {
  const fail = (why: string): Error => {
    const message = cannotRead(path, why, options.what);
    return options.error ? options.error(message) : new UserFileError(message);
  };
  if (path === "") throw fail("the path is empty");
  const problem = notAFile(path);
  if (problem !== undefined) throw fail(problem);
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (err) {
    throw fail(readProblem(err));
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw fail(CODES.EISDIR ?? "is a directory");
    const tooBig = fail(`larger than ${sizeText(options.maxBytes)}`);
    if (st.isFile() && st.size > options.maxBytes) throw tooBig;
    const chunks: Buffer[] = [];
    let total = 0;
    const buf = Buffer.alloc(Math.min(options.maxBytes + 1, 1 << 20));
    for (;;) {
      let got: number;
      try {
        got = readSync(fd, buf, 0, buf.length, null);
      } catch (err) {
        throw fail(readProblem(err));
      }
      if (got === 0) break;
      total += got;
      if (total > options.maxBytes) throw tooBig;
      chunks.push(Buffer.from(buf.subarray(0, got)));
    }
    return Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

/** Input read as a file is (stdin for a `-`): chunks, and whether it is a terminal. */
export type UserStream = AsyncIterable<Buffer | string> & { readonly isTTY?: boolean };

/**
 * The bytes of `stream` (stdin, for a file named `-`), to its end and no further than `maxBytes` + 1,
 * any failure worded as a file's: `cannot read stdin: is a terminal, not a pipe | larger than N MB`.
 * A terminal is refused at once: the command would wait for typing the user did not mean to do.
 */
export async function readUserStream(stream: UserStream, options: UserFileOptions): Promise<Buffer> {
  const fail = (why: string): Error => {
    const message = `${options.what === undefined ? "" : `${options.what}: `}cannot read stdin: ${why}`;
    return options.error ? options.error(message) : new UserFileError(message);
  };
  if (stream.isTTY === true) throw fail("it is a terminal: pipe the file in, or name it instead of -");
  const chunks: Buffer[] = [];
  let total = 0;
  const chunksOf = stream[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<Buffer | string>;
    try {
      next = await chunksOf.next();
    } catch (err) {
      throw fail(readProblem(err));
    }
    if (next.done === true) break;
    const b = typeof next.value === "string" ? Buffer.from(next.value) : next.value;
    total += b.length;
    if (total > options.maxBytes) {
      await chunksOf.return?.();
      throw fail(`larger than ${sizeText(options.maxBytes)}`);
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks, total);
}

/** The text of `path` (UTF-8, a leading byte-order mark dropped), read as `readUserFile` reads. */
export function readUserText(path: string, options: UserFileOptions): string {
  return textOf(readUserFile(path, options));
}

/** The text of `stream` (stdin for a `-`), decoded as readUserText decodes a file's. */
export async function readUserStreamText(stream: UserStream, options: UserFileOptions): Promise<string> {
  return textOf(await readUserStream(stream, options));
}

/** UTF-8, a leading byte-order mark dropped. */
const textOf = (bytes: Buffer): string => bytes.toString("utf8").replace(/^\uFEFF/, "");

/**
 * Why `text` (a file's, which JSON.parse refused with `err`) is not JSON, in words that say when it
 * was cut short: a report whose copy or write did not finish ends inside a value, and the parser's
 * own words (`Expected ',' or ']' after array element in JSON at position 9000`) never say so.
 */
export function jsonProblem(text: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const length = Buffer.byteLength(text);
  if (text.trim() === "") return "it is empty";
  const at = /at position (\d+)/.exec(message)?.[1];
  const atEnd =
    /Unexpected end of JSON input/.test(message) || (at !== undefined && Number(at) >= text.trimEnd().length);
  return atEnd
    ? `it ends early, after ${length} bytes (cut short: a copy or a write that did not finish?): ${message}`
    : message;
}
