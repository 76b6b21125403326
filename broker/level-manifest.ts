/**
 * The log a LevelDB store's manifest expects, looked at before the store opens. LevelDB records in
 * its manifest the number of the log that holds what no table holds yet, and replays that log, and
 * any later one, when it opens; a log that is not there is no error to it: the store opens without
 * what was in it. A copy of a data directory taken while its broker ran (cp -a, tar, a backup tool)
 * that read the manifest before a compaction and reached the log after the compaction removed it
 * holds no such log, and opened without a word, older than the moment it was taken: the writes since
 * the last table were gone (retained messages, sessions, wills). The manifest is LevelDB's log format
 * (32 KiB blocks of records: checksum, length, type) holding version edits (tagged fields); only the
 * log numbers are read here, and a manifest that cannot be read is left for LevelDB to judge.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

const BLOCK = 32_768;
const HEADER = 7;
/** Record types of LevelDB's log format. */
const FULL = 1;
const FIRST = 2;
const MIDDLE = 3;
const LAST = 4;
/** Version edit tags (db/version_edit.cc). */
const TAG_COMPARATOR = 1;
const TAG_LOG_NUMBER = 2;
const TAG_NEXT_FILE = 3;
const TAG_LAST_SEQUENCE = 4;
const TAG_COMPACT_POINTER = 5;
const TAG_DELETED_FILE = 6;
const TAG_NEW_FILE = 7;
const TAG_PREV_LOG_NUMBER = 9;

/** The whole records of a file in LevelDB's log format; a record cut off at the end is left out. */
export function logRecords(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let parts: Uint8Array[] | undefined;
  let off = 0;
  while (off + HEADER <= bytes.length) {
    const blockLeft = BLOCK - (off % BLOCK);
    if (blockLeft < HEADER) {
      off += blockLeft; // the block's trailer, zeros
      continue;
    }
    const len = (bytes[off + 4] ?? 0) | ((bytes[off + 5] ?? 0) << 8);
    const type = bytes[off + 6] ?? 0;
    if (type === 0 && len === 0) {
      off += blockLeft; // zeros to the block's end
      continue;
    }
    const data = bytes.subarray(off + HEADER, off + HEADER + len);
    if (data.length < len) break;
    off += HEADER + len;
    if (type === FULL) out.push(data);
    else if (type === FIRST) parts = [data];
    else if (type === MIDDLE) parts?.push(data);
    else if (type === LAST && parts !== undefined) {
      parts.push(data);
      out.push(Buffer.concat(parts));
      parts = undefined;
    }
  }
  return out;
}

/** The log numbers a manifest's edits set last (0 where none did); undefined if an edit cannot be read. */
export function manifestLogs(bytes: Uint8Array): { log: number; prevLog: number } | undefined {
  let log = 0;
  let prevLog = 0;
  for (const rec of logRecords(bytes)) {
    const r = new EditReader(rec);
    while (!r.done()) {
      const tag = r.varint();
      if (tag === TAG_LOG_NUMBER) log = r.varint();
      else if (tag === TAG_PREV_LOG_NUMBER) prevLog = r.varint();
      else if (tag === TAG_NEXT_FILE || tag === TAG_LAST_SEQUENCE) r.varint();
      else if (tag === TAG_COMPARATOR) r.bytes();
      else if (tag === TAG_COMPACT_POINTER) {
        r.varint();
        r.bytes();
      } else if (tag === TAG_DELETED_FILE) {
        r.varint();
        r.varint();
      } else if (tag === TAG_NEW_FILE) {
        r.varint();
        r.varint();
        r.varint();
        r.bytes();
        r.bytes();
      } else return undefined;
      if (r.bad) return undefined;
    }
  }
  return { log, prevLog };
}

/** Varints and length-prefixed strings of a version edit; `bad` once it reads past the end. */
class EditReader {
  private off = 0;
  bad = false;
  constructor(private readonly b: Uint8Array) {}
  done(): boolean {
    return this.bad || this.off >= this.b.length;
  }
  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const byte = this.b[this.off++];
      if (byte === undefined) break;
      value += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return value;
      scale *= 128;
    }
    this.bad = true;
    return 0;
  }
  bytes(): void {
    const len = this.varint();
    this.off += len;
    if (this.off > this.b.length) this.bad = true;
  }
}

/**
 * The log `dataDir`'s manifest (named by CURRENT) expects and that is not there, with no later one
 * either; undefined when it is there, or when the store is new or its manifest unreadable (LevelDB
 * then says what is wrong as it opens).
 */
export async function missingLog(dataDir: string): Promise<number | undefined> {
  let manifest: Uint8Array;
  let names: string[];
  try {
    const current = (await readFile(join(dataDir, "CURRENT"), "utf8")).trim();
    if (!/^MANIFEST-\d+$/.test(current)) return undefined;
    manifest = await readFile(join(dataDir, current));
    names = await readdir(dataDir);
  } catch {
    return undefined;
  }
  const logs = manifestLogs(manifest);
  if (logs === undefined || logs.log === 0) return undefined;
  const numbers = names.flatMap((n) => /^(\d+)\.log$/.exec(n)?.[1] ?? []).map(Number);
  return numbers.some((n) => n >= logs.log) ? undefined : logs.log;
}

/** One line for an operator: which log is gone, what went with it, and what to do. */
export function missingLogMessage(dataDir: string, log: number): string {
  const file = `${String(log).padStart(6, "0")}.log`;
  return (
    `data directory ${dataDir}: its manifest names the log ${file}, which is not there: what was written since ` +
    "LevelDB's last table is gone (retained messages, sessions, wills), and the store opens older than it was. " +
    "A copy taken while its broker ran loses it so (LevelDB replaced the log during the copy): take the copy " +
    'again with the broker stopped, or as docs/broker.md "Backing up the data directory" says. ' +
    "Each node puts back its retained report and config when it next connects"
  );
}
