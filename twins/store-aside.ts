/**
 * A journal that does not continue the `twins.json` beside it, set aside as the store opens: one of a
 * later generation than the snapshot's, one beside no `twins.json`, or one of the snapshot's own
 * generation beside a file still in format 1 or 2, which the journal's first line would have marked
 * format 3 (twins/store.ts `takeOn`): each a `twins.json` restored from a backup, or moved away, over
 * a later run's directory. Replayed, it brought that later run's changes back over the state restored;
 * replaced by the next journal, they were lost without a word. It is renamed, kept, and said in one WARN.
 */
import { access, rename } from "node:fs/promises";
import type { Logger } from "pino";
import { assertNever } from "../protocol/index.js";
import { JOURNALED_FORMAT } from "./store-format.js";
import { type JournalRead, syncDir } from "./store-journal.js";
import { isErrno } from "./store-lock.js";

/** Why a journal does not belong to the snapshot beside it (what the store read of both). */
export type NotItsJournal =
  | { readonly why: "no-snapshot"; readonly journal: number }
  | { readonly why: "later"; readonly journal: number; readonly snapshot: number | undefined }
  | { readonly why: "unmarked"; readonly journal: number; readonly format: number; readonly changes: number };

/**
 * Renames the journal `file` (in `dir`) to the first free `<file>.<generation>.set-aside` (then
 * `….set-aside.2`, …), synced with the directory, and says so to `logger`; resolves to the new path.
 */
export async function setAsideJournal(
  dir: string,
  file: string,
  snapshot: string,
  not: NotItsJournal,
  logger: Logger | undefined,
): Promise<string> {
  const base = `${file}.${not.journal}.set-aside`;
  let to = base;
  for (let n = 2; await exists(to); n++) to = `${base}.${n}`;
  await rename(file, to);
  await syncDir(dir);
  logger?.warn(
    { journal: not.journal, setAside: to },
    `twins: the journal ${file} (generation ${not.journal}) was not written after the ${snapshot} beside it (${because(not)}: ` +
      `a twins.json restored from a backup, or moved away, over a later run's directory): set aside as ${to}, not replayed, ` +
      "so this start holds that twins.json's state alone; nothing is deleted",
  );
  return to;
}

function because(not: NotItsJournal): string {
  switch (not.why) {
    case "no-snapshot":
      return "there is none";
    case "later":
      return `which names ${not.snapshot === undefined ? "no generation, written by an earlier twinfleet" : `generation ${not.snapshot}`}, before the journal's`;
    case "unmarked":
      return `which is in format ${not.format}, as a clean stop left it, where the journal's first line would have made it format 3; the journal holds changes of ${not.changes} node(s)`;
    default:
      return assertNever(not);
  }
}

/**
 * Why the journal read (`read`, of the snapshot's generation `gen`; else `leftOut`, the generation
 * of one with changes left out) was not written after the snapshot, in `format`, beside it; undefined
 * when it was, or holds nothing to keep. A clean stop's file names the next journal's generation, and
 * that journal's first line marks it format 3 first: one still in format 1 or 2 is a copy.
 */
export function notIts(
  read: JournalRead | undefined,
  gen: number | undefined,
  format: number | undefined,
  leftOut: number | undefined,
): NotItsJournal | undefined {
  if (read !== undefined && gen !== undefined && format !== JOURNALED_FORMAT)
    return read.changes.size > 0 || read.torn
      ? { why: "unmarked", journal: gen, format: format ?? 1, changes: read.changes.size }
      : undefined;
  if (leftOut !== undefined && (gen === undefined || leftOut > gen))
    return { why: "later", journal: leftOut, snapshot: gen };
  return undefined;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch (e) {
    if (isErrno(e, "ENOENT")) return false;
    throw e;
  }
}
