/**
 * An online backup of the broker's LevelDB store (`GET /backup` of `broker --http`, written by
 * `twinfleet broker backup`): every key and value of one LevelDB snapshot, framed as a stream the
 * receiver writes into a store of its own. The broker holds LevelDB's lock on its directory, so it
 * alone can read the store while it runs; a copy of the directory's files (`cp -a`, tar) can catch a
 * compaction half-way and come out torn (docs/broker.md "Backing up the data directory"). A LevelDB
 * iterator reads the snapshot of the moment it was made, whatever is written meanwhile: what it
 * yields is the store as a `kill -9` at that moment would have left it. It reads in batches on
 * LevelDB's threads, so the broker serves its clients between two batches.
 *
 * The stream: MAGIC, then per key `u32 keyBytes, key, u32 valueBytes, value` (big-endian), then END
 * (`u32 0xffffffff`), `u32 bytes` and the summary as JSON. A stream that ends without it was cut
 * short (the broker stopped during the backup), and the receiver keeps nothing.
 */

/**
 * The stream's format, in its first line. A newer one (a broker of a later build) is named as such,
 * not taken for an answer that is no backup: a rollback of the host taking the backups, or an
 * upgraded broker, is told what to run.
 */
export const BACKUP_FORMAT = 1;
/** The first bytes of a backup stream: its format and version. */
export const BACKUP_MAGIC = Buffer.from(`twinfleet-store-backup ${BACKUP_FORMAT}\n`);
/** A first line that names a backup stream's format (any build's). */
const MAGIC_LINE = /^twinfleet-store-backup (\d{1,9})$/;
/** Where a key's length would be: the summary follows. */
export const BACKUP_END = 0xffffffff;

/** What a backup holds, counted as it was read (the receiver checks its own count against it). */
export interface BackupSummary {
  readonly keys: number;
  /** Bytes of keys and values. */
  readonly bytes: number;
  /**
   * Retained messages (aedes-persistence-level's `retained:` keys), as `/metrics` counts them: the
   * broker's own `$SYS/` topics aside.
   */
  readonly retained: number;
  /** Persistent sessions holding subscriptions (distinct clients of the `subscriptions:` keys). */
  readonly sessions: number;
}

/** What the backup reads of the store: classic-level's iterator over buffers. */
export interface SnapshotSource {
  iterator(options: { keyEncoding: "buffer"; valueEncoding: "buffer" }): {
    nextv(size: number): Promise<[Buffer, Buffer][]>;
    close(): Promise<void>;
  };
}

/** Keys read from LevelDB at a time, and about the bytes sent on at once. */
const BATCH_KEYS = 500;
const CHUNK_BYTES = 64 * 1024;

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n);
  return b;
}

const SESSION_PREFIX = Buffer.from("subscriptions:");
const RETAINED_PREFIX = Buffer.from("retained:");
const OWN_PREFIX = Buffer.from("retained:$SYS/");

const startsWith = (key: Buffer, prefix: Buffer) => key.subarray(0, prefix.length).equals(prefix);

/** The client of a `subscriptions:<client>:<topic>` key, or undefined for any other key. */
function sessionOf(key: Buffer): string | undefined {
  if (!startsWith(key, SESSION_PREFIX)) return undefined;
  const end = key.indexOf(":", SESSION_PREFIX.length);
  return end < 0 ? undefined : key.subarray(SESSION_PREFIX.length, end).toString();
}

/**
 * The framed stream of one snapshot of `db`, taken when this is called (the iterator is made at
 * once, before the first chunk is asked for).
 */
export function backupStream(db: SnapshotSource): AsyncGenerator<Buffer, BackupSummary> {
  const it = db.iterator({ keyEncoding: "buffer", valueEncoding: "buffer" });
  return frames(it);
}

async function* frames(it: ReturnType<SnapshotSource["iterator"]>): AsyncGenerator<Buffer, BackupSummary> {
  let keys = 0;
  let bytes = 0;
  let retained = 0;
  const sessions = new Set<string>();
  try {
    yield BACKUP_MAGIC;
    let parts: Buffer[] = [];
    let pending = 0;
    for (;;) {
      const entries = await it.nextv(BATCH_KEYS);
      if (entries.length === 0) break;
      for (const [key, value] of entries) {
        parts.push(u32(key.length), key, u32(value.length), value);
        pending += 8 + key.length + value.length;
        keys++;
        bytes += key.length + value.length;
        if (startsWith(key, RETAINED_PREFIX) && !startsWith(key, OWN_PREFIX)) retained++;
        const session = sessionOf(key);
        if (session !== undefined) sessions.add(session);
      }
      if (pending >= CHUNK_BYTES) {
        yield Buffer.concat(parts);
        parts = [];
        pending = 0;
      }
    }
    if (parts.length > 0) yield Buffer.concat(parts);
    const summary: BackupSummary = { keys, bytes, retained, sessions: sessions.size };
    const json = Buffer.from(JSON.stringify(summary));
    yield Buffer.concat([u32(BACKUP_END), u32(json.length), json]);
    return summary;
  } finally {
    await it.close().catch(() => {});
  }
}

/** A record read back from a backup stream, or its closing summary. */
export type BackupItem =
  | { readonly key: Buffer; readonly value: Buffer }
  | { readonly summary: BackupSummary };

/**
 * Reads a backup stream chunk by chunk: push() each chunk, take the items it completed. Throws on a
 * stream that is not a backup, or on bytes after the summary.
 */
export class BackupReader {
  #buf: Buffer = Buffer.alloc(0);
  #magic = false;
  #ended = false;

  /** The summary has been read: the stream was whole. */
  get ended(): boolean {
    return this.#ended;
  }

  push(chunk: Buffer): BackupItem[] {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const items: BackupItem[] = [];
    if (!this.#magic) {
      const nl = this.#buf.subarray(0, 64).indexOf(0x0a);
      if (nl < 0 && this.#buf.length < 64) return items;
      const format = MAGIC_LINE.exec(this.#buf.subarray(0, Math.max(nl, 0)).toString("latin1"))?.[1];
      if (format === undefined || Number(format) < BACKUP_FORMAT)
        throw new Error(
          "the answer is not a twinfleet store backup (is the URL a twinfleet broker's --http?)",
        );
      if (Number(format) > BACKUP_FORMAT)
        throw new Error(
          `the broker's backup stream is in format ${format}, written by a newer twinfleet; this one reads format ${BACKUP_FORMAT}: take the backup with a twinfleet broker backup of the broker's build or later (twinfleet --version on the broker's host)`,
        );
      this.#magic = true;
      this.#buf = this.#buf.subarray(nl + 1);
    }
    let at = 0;
    const buf = this.#buf;
    while (buf.length - at >= 8) {
      if (this.#ended) throw new Error("the backup stream goes on after its summary");
      const first = buf.readUInt32BE(at);
      const second = buf.readUInt32BE(at + 4);
      if (first === BACKUP_END) {
        if (buf.length - at - 8 < second) break;
        const summary = JSON.parse(buf.subarray(at + 8, at + 8 + second).toString()) as BackupSummary;
        items.push({ summary });
        this.#ended = true;
        at += 8 + second;
        continue;
      }
      // `second` is the first bytes of the key here: the value's length comes after the key.
      if (buf.length - at < 4 + first + 4) break;
      const valueBytes = buf.readUInt32BE(at + 4 + first);
      const end = at + 4 + first + 4 + valueBytes;
      if (buf.length < end) break;
      items.push({
        key: Buffer.from(buf.subarray(at + 4, at + 4 + first)),
        value: Buffer.from(buf.subarray(end - valueBytes, end)),
      });
      at = end;
    }
    this.#buf = buf.subarray(at);
    if (this.#ended && this.#buf.length > 0) throw new Error("the backup stream goes on after its summary");
    return items;
  }
}
