/**
 * The journal beside `twins.json` (`twins.journal`): the records of the nodes whose desire changed
 * since the snapshot, appended a batch at a time (one write and one fsync for every change made
 * while the one before was written), so a change costs its own line, not a rewrite of every twin.
 * The first line names the journal's format and the snapshot it continues (`generation`, written in
 * the snapshot as `journal`); each line after it is one node's whole record (`{"node":…,"record":…}`)
 * or its removal (`{"node":…}`), the last for a node winning. A journal of an older generation is
 * what a snapshot already holds (a crash between the snapshot's rename and the new journal's): left
 * out, saying so. One of a later generation does not belong to the snapshot (a `twins.json` restored
 * alone from a backup): set aside under a name of its own, saying so (twins/store-aside.ts). A last line cut short
 * (a kill -9 or a power cut mid-append) is left out with one WARN naming it; a garbled line before
 * the last is damage, and stops the start as a corrupt `twins.json` does. A line longer than any
 * record (JOURNAL_MAX_LINE_BYTES) is no record any build wrote: it is passed over as the journal is
 * read a line at a time (twins/bounded-lines.ts), never held whole, named in one WARN, and the
 * records around it are replayed.
 */
import { open, rename, rm } from "node:fs/promises";
import type { Logger } from "pino";
import { eachBoundedLine, type LineAt } from "./bounded-lines.js";
import { permissionHint } from "./store-access.js";
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
 * The longest line a journal holds, bytes: a record is at most about 18 KB (a node id of 23
 * characters, 8 sources, 8 configs written while it was away, each with 8 sources before, 8 after
 * and 8 lists taken on top of it); a longer line is no record this or any build wrote, and is not
 * read into memory, only named.
 */
export const JOURNAL_MAX_LINE_BYTES = 64 * 1024;

/**
 * The changes `file` holds over the snapshot of `generation` (undefined: a snapshot with no journal),
 * or undefined when there is no journal for it. Throws, naming the file and the line, on a journal
 * in a newer format or damaged before its last line, or one that cannot be read (a directory, a
 * FIFO, no permission). `leftOut` hears the generation of a journal of another snapshot, and whether
 * it has lines after its header: the next snapshot's generation must pass it, or a crash before that
 * snapshot's own journal replaces it would bring its stale changes back. One of an older generation
 * (its changes in the snapshot: a crash between the snapshot's rename and the new journal's) is said
 * here, in an INFO line; one of a later generation, or beside a snapshot naming none, is not: it was
 * written after another `twins.json`, and the caller sets it aside (twins/store-aside.ts). It is read a line at a time, each bounded (JOURNAL_MAX_LINE_BYTES):
 * a line past the bound is left out, said in one WARN naming where it is and its length, and the
 * lines around it are replayed.
 */
export async function readJournal(
  file: string,
  generation: number | undefined,
  logger: Logger | undefined,
  corruptHint: string,
  leftOut?: (generation: number, lines: boolean) => void,
): Promise<JournalRead | undefined> {
  const changes = new Map<string, unknown>();
  let header: Record<string, unknown> | undefined;
  /** The header's line cut short, when it is the file's one line: a crash as a new journal was made. */
  let tornHeader: LineAt | undefined;
  /** What stops the read: damage, a newer format, another generation (with lines after its header or not). */
  let stop: Error | "other" | undefined;
  let more = false;
  let wholeBytes = 0;
  let torn: LineAt | undefined;
  const long: LineAt[] = [];
  const each = (text: string | undefined, at: LineAt): boolean => {
    if (at.ended) wholeBytes = at.offset + at.bytes + 1;
    if (at.index === 0) {
      header = text === undefined ? undefined : parseLine(text);
      const format = header?.journal;
      if (typeof format !== "number" || !Number.isInteger(format) || !Number.isInteger(header?.generation)) {
        if (!at.ended) tornHeader = at;
        else
          stop = new Error(
            `twins journal ${file} has no valid first line (format and generation); ${corruptHint}`,
          );
      } else if (format > JOURNAL_FORMAT)
        stop = new Error(
          `twins journal ${file} is in format ${format}, written by a newer twinfleet; this one reads formats up to ${JOURNAL_FORMAT}: ` +
            "run a twinfleet that reads it (the file is left as it is; moving it away loses the changes made since twins.json was last written whole)",
        );
      else if (header?.generation !== generation) stop = "other";
      else if (!at.ended) torn = at;
      return !(stop instanceof Error); // another generation's: read on to its second line (`more`)
    }
    if (stop === "other") {
      more = true;
      return false;
    }
    if (text === undefined) {
      long.push(at);
      if (!at.ended) torn = at;
      return true;
    }
    if (!at.ended) {
      torn = at;
      return true;
    }
    const line = parseLine(text);
    if (line === undefined || typeof line.node !== "string") {
      stop = new Error(
        `twins journal ${file} line ${at.index + 1} is garbled (${excerpt(text)}); ${corruptHint}`,
      );
      return false;
    }
    changes.delete(line.node); // the order of last changes, as a snapshot would list them
    changes.set(line.node, line.record);
    return true;
  };
  let lines: number;
  try {
    lines = await eachBoundedLine(
      file,
      JOURNAL_MAX_LINE_BYTES,
      (text, at) => each(text, at) && !(stop instanceof Error),
    );
  } catch (e) {
    if (isErrno(e, "ENOENT")) return undefined;
    const hint = (await permissionHint(file, e)) ?? corruptHint;
    throw new Error(`twins journal ${file} cannot be read: ${(e as Error).message}; ${hint}`);
  }
  if (tornHeader !== undefined || lines === 0) {
    // Its header cut short (or no line at all): a crash as a new journal was made, before its rename.
    const at = tornHeader ?? { index: 0, offset: 0, bytes: 0, ended: false };
    if (at.bytes > JOURNAL_MAX_LINE_BYTES) warnLong(logger, file, [at]);
    else warnTorn(logger, file, at);
    return undefined;
  }
  if (stop instanceof Error) throw stop;
  if (stop === "other") {
    const other = header?.generation as number;
    leftOut?.(other, more);
    // A later one's (or one beside no snapshot naming a generation) is the caller's to set aside and say.
    if (more && generation !== undefined && other < generation)
      logger?.info(
        { journal: header?.generation, snapshot: generation ?? null },
        `twins: the journal ${file} continues another twins.json than the one beside it (generation ${String(header?.generation)}, the file's ${generation ?? "none"}): left out, as that twins.json holds what it held or is not the one it was written after`,
      );
    return undefined;
  }
  if (long.length > 0) warnLong(logger, file, long);
  if (torn !== undefined && torn.bytes <= JOURNAL_MAX_LINE_BYTES) warnTorn(logger, file, torn);
  return { changes, wholeBytes, torn: torn !== undefined };
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

function warnTorn(logger: Logger | undefined, file: string, at: LineAt): void {
  const line = at.index + 1;
  logger?.warn(
    { line, bytes: at.bytes },
    `twins: the journal ${file} ends in a line cut short (line ${line}, ${at.bytes} bytes: a kill -9 or a power cut as it was written): left out, as its change was never answered as stored`,
  );
}

/** Says the lines past the bound (`long`, in order), naming the first by its number, byte and length. */
function warnLong(logger: Logger | undefined, file: string, long: readonly LineAt[]): void {
  const [first] = long as [LineAt];
  const line = first.index + 1;
  const more =
    long.length > 1
      ? ` and ${long.length - 1} more, ${long.reduce((n, l) => n + l.bytes, 0)} bytes in all`
      : "";
  const cut =
    long.at(-1)?.ended === false
      ? "; the last, the file's last line and without its newline, is cut off before the next change is appended"
      : "";
  logger?.warn(
    { line, offset: first.offset, bytes: first.bytes, lines: long.length },
    `twins: the journal ${file} has a line of ${first.bytes} bytes (line ${line}, at byte ${first.offset}${more}), where a record is at most ${JOURNAL_MAX_LINE_BYTES}: no build wrote it (damage, or another program's writing), so it is left out, not read, and the rest of the journal is replayed${cut}`,
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
  await replaceInSlices(tmp, dir, file, [text], async () => {});
}

/**
 * What a write tells its saver's stall judge (twins/disk-stall.ts) as it goes: `idle` when it stops
 * waiting on its disk to make its next piece (a slice of a snapshot, the event loop turning before
 * it), `disk` when it waits on it again. Only the waits are timed, each from its own start.
 */
export interface DiskPace {
  idle(): void;
  disk(): void;
}

/** A pace nobody is told. */
export const UNTOLD_PACE: DiskPace = { idle() {}, disk() {} };

/**
 * Replaces `file` as replaceThrough does with the text `slices` make, each asked for only once the one
 * before is written and `turn` has resolved (twins/store-slices.ts): the event loop runs between two,
 * and `pace` is told each of those times between the disk's operations. Resolves to the bytes written.
 */
export async function replaceInSlices(
  tmp: string,
  dir: string,
  file: string,
  slices: Iterable<string>,
  turn: () => Promise<void>,
  pace: DiskPace = UNTOLD_PACE,
): Promise<number> {
  let bytes = 0;
  const fh = await open(tmp, "w");
  try {
    try {
      const pieces = slices[Symbol.iterator]();
      for (;;) {
        pace.idle(); // the next slice is made, the disk waiting on nothing
        const next = pieces.next();
        pace.disk();
        if (next.done === true) break;
        const data = Buffer.from(next.value);
        await fh.writeFile(data); // from where the slice before ended
        bytes += data.length;
        pace.idle();
        await turn(); // before the next slice is made
      }
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
  return bytes;
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

/** Removes `file`; false when there was none. */
export async function removed(file: string): Promise<boolean> {
  try {
    await rm(file);
    return true;
  } catch (e) {
    if (isErrno(e, "ENOENT")) return false;
    throw e;
  }
}
