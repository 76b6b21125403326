/**
 * Where `twinfleet broker backup` writes: a new LevelDB store made from a backup stream
 * (broker/store-backup.ts), in a directory beside the target that is renamed to it once the stream
 * was whole and its last write synced, so that the target is either a complete store or not there. A
 * failure on the way (a full disk, the broker stopping, a cut connection, a stop) removes the partial
 * directory and names what happened. The target is checked before anything is asked of the broker:
 * a path that holds anything is refused, never written into. A partial directory a backup of the
 * same target left when it was killed (`kill -9`, out of memory, a host reset: nothing ran to remove
 * it) is removed by the next one, which names it: its process is gone.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { BackupReader, type BackupSummary } from "../broker/index.js";
import { processAlive } from "../node/process-alive.js";
import { shownPath } from "../protocol/shown.js";
import { UsageError } from "./errors.js";

/** What the writer needs of a LevelDB store: classic-level's batch and close. */
export interface BackupTarget {
  batch(ops: { type: "put"; key: Buffer; value: Buffer }[], options?: { sync?: boolean }): Promise<void>;
  close(): Promise<void>;
}

/** Opens a new store in `dir` (classic-level by default). */
export type OpenTarget = (dir: string) => Promise<BackupTarget>;

const openLevel: OpenTarget = async (dir) => {
  const { ClassicLevel } = await import("classic-level");
  const db = new ClassicLevel<Buffer, Buffer>(dir, {
    keyEncoding: "buffer",
    valueEncoding: "buffer",
    createIfMissing: true,
    errorIfExists: true,
  });
  await db.open();
  return db as unknown as BackupTarget;
};

/** Keys written per batch. */
const BATCH = 1000;

/**
 * Refuses a target that holds anything (a file, a directory with entries); an empty directory is
 * taken (the rename replaces it). Its parent is made if missing. A usage error: nothing was tried.
 */
export function checkBackupTarget(out: string): void {
  if (out.trim() === "") throw new UsageError("--out: must name the directory to write the backup to");
  if (existsSync(out)) {
    const st = statSync(out);
    if (!st.isDirectory())
      throw new UsageError(`--out: ${shownPath(out)} exists and is not a directory; name a new directory`);
    const entries = readdirSync(out);
    if (entries.length > 0)
      throw new UsageError(
        `--out: ${shownPath(out)} exists and is not empty (${entries.length} entr${entries.length === 1 ? "y" : "ies"}): a backup is written to a new directory, never into or over one; name a new one, or move that one away`,
      );
    return;
  }
  try {
    mkdirSync(dirname(resolve(out)), { recursive: true });
  } catch (err) {
    throw new UsageError(
      `--out: cannot make the directory ${shownPath(dirname(resolve(out)))} to hold ${shownPath(out)} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
}

/** A backup written: what it holds, as the broker counted it and this side checked. */
export interface BackupWritten extends BackupSummary {
  readonly out: string;
  /** Partial directories of killed backups of the same target, removed (their names). */
  readonly leftovers: readonly string[];
}

/**
 * Removes the partial directories beside `out` that backups of it left when killed: `.NAME.partial-PID`
 * whose process is gone. Returns their names.
 */
function removeLeftovers(out: string): string[] {
  const dir = dirname(resolve(out));
  const name = basename(resolve(out));
  const removed: string[] = [];
  for (const entry of readdirSync(dir)) {
    if (!entry.startsWith(`.${name}.partial-`)) continue;
    const pid = entry.slice(name.length + 10);
    if (!/^[1-9]\d{0,9}$/.test(pid) || Number(pid) === process.pid || processAlive(Number(pid))) continue;
    rmSync(join(dir, entry), { recursive: true, force: true });
    removed.push(entry);
  }
  return removed;
}

/** Why a backup was not written; `cause` as the failure said it. */
export class BackupNotWritten extends Error {}

/**
 * Writes the backup stream `chunks` into a new store at `out` (checked by checkBackupTarget before).
 * Throws BackupNotWritten, the partial directory removed, when anything fails.
 */
export async function writeBackup(
  chunks: AsyncIterable<Uint8Array>,
  out: string,
  open: OpenTarget = openLevel,
): Promise<BackupWritten> {
  const partial = join(dirname(resolve(out)), `.${basename(resolve(out))}.partial-${process.pid}`);
  const where = shownPath(out);
  let db: BackupTarget | undefined;
  let keys = 0;
  let bytes = 0;
  let leftovers: string[] = [];
  try {
    leftovers = removeLeftovers(out);
    rmSync(partial, { recursive: true, force: true });
    db = await open(partial);
    const reader = new BackupReader();
    let summary: BackupSummary | undefined;
    let ops: { type: "put"; key: Buffer; value: Buffer }[] = [];
    for await (const chunk of chunks) {
      for (const item of reader.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))) {
        if ("summary" in item) {
          summary = item.summary;
          continue;
        }
        ops.push({ type: "put", key: item.key, value: item.value });
        keys++;
        bytes += item.key.length + item.value.length;
        if (ops.length >= BATCH) {
          await db.batch(ops);
          ops = [];
        }
      }
    }
    if (summary === undefined)
      throw new Error(
        `the broker's answer stopped after ${keys} keys (${bytes} bytes), before its end: the broker stopped or the connection was cut`,
      );
    if (summary.keys !== keys || summary.bytes !== bytes)
      throw new Error(
        `the broker sent ${summary.keys} keys (${summary.bytes} bytes) and ${keys} keys (${bytes} bytes) arrived`,
      );
    // Synced: what the store holds is on the disk before the directory takes the target's name.
    await db.batch(ops, { sync: true });
    const closing = db;
    db = undefined;
    await closing.close();
    renameSync(partial, out);
    syncDir(dirname(resolve(out)));
    return { ...summary, out, leftovers };
  } catch (err) {
    await db?.close().catch(() => {});
    rmSync(partial, { recursive: true, force: true });
    throw new BackupNotWritten(
      `${notWritten(err)}; nothing was written at ${where} (the partial copy was removed)`,
    );
  }
}

/** The failure, with what to do about a full disk. */
function notWritten(err: unknown): string {
  const e = err as Error & { cause?: Error; code?: string };
  const message = e.cause?.message ?? e.message;
  if (/no space left on device|ENOSPC/i.test(message))
    return `the disk is full (${message}): free space on it`;
  return message;
}

/** fsync of a directory: the rename is on the disk too. */
function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on a directory; the rename stands all the same.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
