/**
 * The journal beside `twins.json` (`twins.journal`): the records of the nodes whose desire changed
 * since the snapshot, appended a batch at a time (one write and one fsync for every change made
 * while the one before was written), so a change costs its own line, not a rewrite of every twin.
 * The first line names the journal's format and the snapshot it continues (`generation`, written in
 * the snapshot as `journal`); each line after it is one node's whole record (`{"node":…,"record":…}`)
 * or its removal (`{"node":…}`), the last for a node winning. A journal of another generation is
 * what a snapshot already holds (a crash between the snapshot's rename and the new journal's) or
 * does not belong to it (a `twins.json` restored alone): left out, saying so. A last line cut short
 * (a kill -9 or a power cut mid-append) is left out with one WARN naming it; a garbled line before
 * the last is damage, and stops the start as a corrupt `twins.json` does.
 */
import { open, readFile, rename, rm } from "node:fs/promises";
import type { Logger } from "pino";
import { isErrno } from "./store-lock.js";

export const JOURNAL_FILE = "twins.journal";
/** The newest journal format this build reads; a newer one is refused, left as it is. */
export const JOURNAL_FORMAT = 1;
/** A journal is folded into a new snapshot once it is larger than the snapshot and than this. */
export const JOURNAL_MIN_BYTES = 1 << 20;

/** A record by node id (undefined: the node is out of the store), in the order the lines came. */
export type JournalChanges = ReadonlyMap<string, unknown>;

/** A journal read for its snapshot: its changes, and where its whole lines end (a line cut short after). */
export interface JournalRead {
  readonly changes: JournalChanges;
  /** The bytes of its whole lines: appends continue from there, a line cut short cut off first. */
  readonly wholeBytes: number;
  /** It ends in a line cut short (left out of `changes`). */
  readonly torn: boolean;
}

/** The journal's first line, for the snapshot of `generation`. */
export function journalHeader(generation: number): string {
  return `${JSON.stringify({ journal: JOURNAL_FORMAT, generation })}\n`;
}

/** The lines of one append: a node's whole record, or its removal. */
export function journalLines(changes: ReadonlyMap<string, object | undefined>): string {
  let text = "";
  for (const [node, record] of changes)
    text += `${JSON.stringify(record === undefined ? { node } : { node, record })}\n`;
  return text;
}

/**
 * Appends `text` to `file` and syncs it: once this resolves the lines outlive a power cut. `flags`:
 * how the file is opened (`"a"` creates it when it is not there).
 */
export async function appendSynced(file: string, text: string, flags: string | number = "a"): Promise<void> {
  const fh = await open(file, flags);
  try {
    await fh.appendFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * The changes `file` holds over the snapshot of `generation` (undefined: a snapshot with no journal),
 * or undefined when there is no journal for it. Throws, naming the file and the line, on a journal
 * in a newer format or damaged before its last line. `leftOut` hears the generation of a journal of
 * another snapshot: the next snapshot's generation must pass it, or a crash before that snapshot's
 * own journal replaces it would bring its stale changes back.
 */
export async function readJournal(
  file: string,
  generation: number | undefined,
  logger: Logger | undefined,
  corruptHint: string,
  leftOut?: (generation: number) => void,
): Promise<JournalRead | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    if (isErrno(e, "ENOENT")) return undefined;
    throw new Error(`twins journal ${file} cannot be read: ${(e as Error).message}; ${corruptHint}`);
  }
  const text = bytes.toString("utf8");
  const lines = text.split("\n");
  // A whole journal ends with a newline: the piece after the last one is a line cut short, or nothing.
  const tail = lines.pop() ?? "";
  const header = parseLine(lines[0] ?? tail);
  const format = header?.journal;
  if (typeof format !== "number" || !Number.isInteger(format) || !Number.isInteger(header?.generation)) {
    if (lines.length === 0) {
      // Its header cut short: a crash as a new journal was made, before its rename. Nothing in it.
      warnTorn(logger, file, 1, tail);
      return undefined;
    }
    throw new Error(`twins journal ${file} has no valid first line (format and generation); ${corruptHint}`);
  }
  if (format > JOURNAL_FORMAT)
    throw new Error(
      `twins journal ${file} is in format ${format}, written by a newer twinfleet; this one reads formats up to ${JOURNAL_FORMAT}: ` +
        "run a twinfleet that reads it (the file is left as it is; moving it away loses the changes made since twins.json was last written whole)",
    );
  if (header?.generation !== generation) {
    leftOut?.(header?.generation as number);
    if (lines.length > 1 || tail !== "")
      logger?.info(
        { journal: header?.generation, snapshot: generation ?? null },
        `twins: the journal ${file} continues another twins.json than the one beside it (generation ${String(header?.generation)}, the file's ${generation ?? "none"}): left out, as that twins.json holds what it held or is not the one it was written after`,
      );
    return undefined;
  }
  const changes = new Map<string, unknown>();
  for (let i = 1; i < lines.length; i++) {
    const line = parseLine(lines[i] as string);
    if (line === undefined || typeof line.node !== "string")
      throw new Error(
        `twins journal ${file} line ${i + 1} is garbled (${excerpt(lines[i] as string)}); ${corruptHint}`,
      );
    changes.delete(line.node); // the order of last changes, as a snapshot would list them
    changes.set(line.node, line.record);
  }
  if (tail !== "") warnTorn(logger, file, lines.length + 1, tail);
  return { changes, wholeBytes: bytes.lastIndexOf(0x0a) + 1, torn: tail !== "" };
}

/** Cuts `file` to its first `bytes` (a line cut short after them) and syncs it. */
export async function truncateSynced(file: string, bytes: number): Promise<void> {
  const fh = await open(file, "r+");
  try {
    await fh.truncate(bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function warnTorn(logger: Logger | undefined, file: string, line: number, text: string): void {
  logger?.warn(
    { line, bytes: Buffer.byteLength(text) },
    `twins: the journal ${file} ends in a line cut short (line ${line}, ${Buffer.byteLength(text)} bytes: a kill -9 or a power cut as it was written): left out, as its change was never answered as stored`,
  );
}

function parseLine(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === "object" && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

const excerpt = (text: string) => JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);

/**
 * Replaces `file` with `text` so a crash leaves the old one whole and a resolved call outlives a
 * power cut: a temporary file (`<file>.<pid>.<seq>.tmp`, removed when its write fails), fsync,
 * rename, fsync of the directory (the rename lives there: unsynced, a power cut can undo it).
 */
export async function replaceFile(dir: string, file: string, text: string, seq: number): Promise<void> {
  await replaceThrough(`${file}.${process.pid}.${seq}.tmp`, dir, file, text);
}

/** Replaces `file` in `dir` with `text` as replaceFile does, through the temporary file `tmp`. */
export async function replaceThrough(tmp: string, dir: string, file: string, text: string): Promise<void> {
  const fh = await open(tmp, "w");
  try {
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
    await syncDir(dir);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Writes `dir`'s entries (a rename, a new file) through to the disk. */
export async function syncDir(dir: string): Promise<void> {
  const dh = await open(dir, "r");
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}
