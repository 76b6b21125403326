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

import { MAX_MAX_PACKET_BYTES } from "./options.js";

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
/**
 * The longest key a store of the broker's holds, bytes: aedes-persistence-level's keys hold a topic
 * and a client id, each at most 65,535 bytes in MQTT. A longer one read is a stream that is not one.
 */
export const BACKUP_MAX_KEY_BYTES = 1024 * 1024;
/** The longest value: one MQTT packet of the largest size the broker takes, with room for its framing. */
export const BACKUP_MAX_VALUE_BYTES = MAX_MAX_PACKET_BYTES + 64 * 1024;
/** The longest summary (some 60 bytes of JSON). */
const MAX_SUMMARY_BYTES = 64 * 1024;

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
 * stream that is not a backup, on a length no record of a store has (a garbled stream, or a peer
 * that would have it wait for gigabytes), on a summary that is not one, or on bytes after the
 * summary. Chunks wait, not joined, until the record they are part of is whole: a record of many
 * chunks is copied once, and what waits is bounded by the longest record.
 */
export class BackupReader {
  #buf: Buffer = Buffer.alloc(0);
  /** Chunks after #buf, not joined yet, and their bytes. */
  #parts: Buffer[] = [];
  #partBytes = 0;
  /** Bytes #buf and #parts must hold before the next record can be read. */
  #need = 0;
  #magic = false;
  #ended = false;
  /** Bytes of the stream read before #buf (where in the stream a bad length is). */
  #offset = 0;

  /** The summary has been read: the stream was whole. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Bytes received and not read into items yet: an unfinished record. */
  get pending(): number {
    return this.#buf.length + this.#partBytes;
  }

  push(chunk: Buffer): BackupItem[] {
    if (this.#ended && chunk.length > 0) throw new Error("the backup stream goes on after its summary");
    this.#parts.push(chunk);
    this.#partBytes += chunk.length;
    if (this.pending < this.#need) return [];
    this.#buf = Buffer.concat([this.#buf, ...this.#parts]);
    this.#parts = [];
    this.#partBytes = 0;
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
      this.#offset = nl + 1;
      this.#buf = this.#buf.subarray(nl + 1);
    }
    let at = 0;
    const buf = this.#buf;
    this.#need = 0;
    while (buf.length - at >= 8) {
      if (this.#ended) throw new Error("the backup stream goes on after its summary");
      const first = buf.readUInt32BE(at);
      const second = buf.readUInt32BE(at + 4);
      if (first === BACKUP_END) {
        if (second > MAX_SUMMARY_BYTES) throw this.#garbled(at, `a summary of ${second} bytes`);
        if (buf.length - at - 8 < second) {
          this.#need = 8 + second;
          break;
        }
        items.push({ summary: summaryOf(buf.subarray(at + 8, at + 8 + second)) });
        this.#ended = true;
        at += 8 + second;
        continue;
      }
      if (first > BACKUP_MAX_KEY_BYTES)
        throw this.#garbled(at, `a key of ${first} bytes, where the longest is ${BACKUP_MAX_KEY_BYTES}`);
      // `second` is the first bytes of the key here: the value's length comes after the key.
      if (buf.length - at < 4 + first + 4) {
        this.#need = 4 + first + 4;
        break;
      }
      const valueBytes = buf.readUInt32BE(at + 4 + first);
      if (valueBytes > BACKUP_MAX_VALUE_BYTES)
        throw this.#garbled(
          at,
          `a value of ${valueBytes} bytes, where the longest is ${BACKUP_MAX_VALUE_BYTES} (an MQTT packet of the largest size)`,
        );
      const end = at + 4 + first + 4 + valueBytes;
      if (buf.length < end) {
        this.#need = end - at;
        break;
      }
      items.push({
        key: Buffer.from(buf.subarray(at + 4, at + 4 + first)),
        value: Buffer.from(buf.subarray(end - valueBytes, end)),
      });
      at = end;
    }
    this.#offset += at;
    this.#buf = buf.subarray(at);
    if (this.#ended && this.#buf.length > 0) throw new Error("the backup stream goes on after its summary");
    return items;
  }

  #garbled(at: number, what: string): Error {
    return new Error(
      `the backup stream is garbled at byte ${this.#offset + at}: it gives ${what}; no record of a broker's store is that long`,
    );
  }
}

/** The summary's JSON, checked to be one. */
function summaryOf(json: Buffer): BackupSummary {
  let s: Partial<Record<keyof BackupSummary, unknown>> | null;
  try {
    s = JSON.parse(json.toString()) as typeof s;
  } catch {
    s = null;
  }
  const count = (v: unknown) => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
  if (
    s === null ||
    typeof s !== "object" ||
    !count(s.keys) ||
    !count(s.bytes) ||
    !count(s.retained) ||
    !count(s.sessions)
  )
    throw new Error(
      `the backup stream's summary is not one (${JSON.stringify(json.subarray(0, 80).toString())}): the stream is garbled`,
    );
  return s as BackupSummary;
}
