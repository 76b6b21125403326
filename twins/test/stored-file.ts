/**
 * What a data directory stores, read as the store reads it: `twins.json` with the journal beside it
 * replayed (twins/store-journal.ts), for tests that look at the disk while a service runs.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { STORE_FILE } from "../store.js";
import { JOURNAL_FILE, readJournal } from "../store-journal.js";

export interface StoredFile {
  readonly format: number;
  readonly journal?: number;
  readonly nodes: Record<string, Record<string, unknown>>;
}

export async function storedFile(dir: string): Promise<StoredFile> {
  const file = JSON.parse(await readFile(join(dir, STORE_FILE), "utf8")) as StoredFile;
  const read = await readJournal(join(dir, JOURNAL_FILE), file.journal, undefined, "");
  for (const [id, rec] of read?.changes ?? []) {
    if (rec === undefined) delete file.nodes[id];
    else file.nodes[id] = rec as Record<string, unknown>;
  }
  return file;
}
