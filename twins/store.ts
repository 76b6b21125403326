/**
 * The twins' durable memory: desired pairings, pending set commands and the last known identity of
 * each node, so a restarted twins service picks up where it stopped. One interface, two stores: in
 * memory for throwaway simulation runs, and a JSON file replaced atomically (write temp, fsync,
 * rename, fsync the directory) so a crash mid-write leaves the previous file intact and a save that
 * resolved outlives a power cut (the rename is the directory's: unsynced, it can be lost with the
 * power, bringing back the file before it). A temporary file is removed when its
 * write fails (a full disk: each retry would leave another) and, when the store opens, when the
 * process that wrote it is gone (a crash mid-write leaves it). The directory is held by one process
 * at a time (`twins.lock`, its pid): two services saving into one file replace each other's state.
 */
import { open, readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import { z } from "zod";
import { dataDirError, makeDir } from "../node/make-dir.js";
import { processAlive } from "../node/process-alive.js";
import { isNodeId, NODE_KINDS, type NodeId, type NodeKind } from "../protocol/index.js";
import { HISTORY_FILE } from "./history-file.js";
import {
  appendSynced,
  JOURNAL_FILE,
  JOURNAL_MIN_BYTES,
  journalHeader,
  journalLines,
  readJournal,
  replaceFile,
  syncDir,
} from "./store-journal.js";
import {
  asDataDirError,
  copiedLockLine,
  holdDirectory,
  isErrno,
  PRESENCE_LINE,
  type PreviousHolder,
} from "./store-lock.js";

export { LOCK_FILE, type PreviousHolder } from "./store-lock.js";

/** What the twins service wants a node to be; the node's reported state is what it is. */
export interface DesiredRecord {
  /** Sources the node should follow (desired pairing). */
  readonly sources: readonly NodeId[];
  /**
   * Config version this desire corresponds to: the version the twins service expects the node to
   * reach with it. A reported config with a higher version is a change made elsewhere and is
   * adopted as the new desire (see docs/twins.md, "Pairing").
   */
  readonly configVersion: number;
  /** A set command the node has not yet acted on: re-sent when it registers. */
  readonly pendingSet?: { readonly on: boolean; readonly counter: number };
  /** The node has not confirmed the desired sources yet: re-sent when it registers. */
  readonly pending?: boolean;
  /** Last known identity, so an offline node still shows what it is after a restart. */
  readonly kind?: NodeKind;
  readonly profile?: string;
  readonly firmware?: string;
  readonly lastSeen?: number;
  /**
   * The configs this service wrote for the node while it was away, the newest last: another tool's
   * write at one of their versions is a crossing (twins/crossed-writes.ts). Format 2 (below).
   */
  readonly offlineWrites?: readonly StoredOfflineWrite[];
}

/** A config written for a node away: its version, its sources, and the desired sources before it. */
export interface StoredOfflineWrite {
  readonly version: number;
  readonly sources: readonly NodeId[];
  readonly before: readonly NodeId[];
  /** Other tools' configs at its version taken on top of the desire already, each once. */
  readonly taken?: readonly (readonly NodeId[])[];
}

export interface StoredState {
  readonly nodes: Readonly<Record<string, DesiredRecord>>;
}

export interface TwinsStore {
  /** Where the store keeps the state, for messages (a file's path); absent in memory. */
  readonly where?: string;
  /** Where the convergence history is kept beside it (twins/history-keeper.ts); absent in memory. */
  readonly historyFile?: string;
  /**
   * The service that held the store before this one and left without a goodbye, as it recorded
   * itself (`holdAs`): its presence may still be retained on a broker killed with it (docs/twins.md,
   * "Presence"). Absent when it stopped cleanly, or recorded no presence.
   */
  readonly previous?: PreviousHolder;
  /** Records the presence the service holding the store keeps, for the service after it (`previous`). */
  holdAs?(clientId: string, since: number): Promise<void>;
  load(): Promise<StoredState>;
  /**
   * Replaces the stored state with `state`, which the caller no longer changes. Calls are serialised
   * by the caller. `journaled`: appends follow (format 3, a fresh journal); without it, the state
   * alone, a journal folded in and removed (as the service stops).
   */
  save(state: StoredState, journaled?: boolean): Promise<void>;
  /**
   * Stores the records of the nodes in `changes` (undefined: out of the store) over what is stored;
   * `whole` is the state to write instead when the store rewrites itself (its first write, a journal
   * grown past its bound, one that failed). Absent: every save is a `save` of the whole state.
   */
  append?(changes: ReadonlyMap<string, DesiredRecord | undefined>, whole: () => StoredState): Promise<void>;
  close(): Promise<void>;
}

export function memoryStore(initial: StoredState = { nodes: {} }): TwinsStore {
  let state = structuredClone(initial);
  return {
    load: async () => structuredClone(state),
    // The saver hands over a fresh snapshot each time (registry.snapshot()): kept as it is, as
    // cloning every record on each save cost more than the snapshot itself on large fleets.
    save: async (s) => {
      state = s;
    },
    close: async () => {},
  };
}

const idSchema = z.custom<NodeId>((v) => typeof v === "string" && isNodeId(v), "not a node id");
const sourcesSchema = z.array(idSchema).max(8);
/** Kept per node: twins/crossed-writes.ts keeps 8. */
export const MAX_OFFLINE_WRITES = 8;
const offlineWriteSchema = z.object({
  version: z.number().int().min(1),
  sources: sourcesSchema,
  before: sourcesSchema,
  taken: z.array(sourcesSchema).max(MAX_OFFLINE_WRITES).optional(),
});
const recordSchema = z.object({
  sources: sourcesSchema,
  configVersion: z.number().int().min(0),
  pendingSet: z.object({ on: z.boolean(), counter: z.number().int().min(0) }).optional(),
  pending: z.boolean().optional(),
  kind: z.enum(NODE_KINDS).optional(),
  profile: z.string().optional(),
  firmware: z.string().optional(),
  lastSeen: z.number().optional(),
  offlineWrites: z.array(offlineWriteSchema).max(MAX_OFFLINE_WRITES).optional(),
});
/**
 * The newest file format this build reads; a newer one is refused, left as it is. Format 2 is format
 * 1 with the configs written for nodes away (`offlineWrites`), which a build reading format 1 would
 * drop without a word: a file is written in format 2 only while it holds some, so a rollback works
 * on any other, and stops, naming the format, on one that holds them.
 */
const STORE_FORMAT = 3;
/**
 * Format 3 is format 2 with a journal beside it (`journal`: its generation, twins/store-journal.ts),
 * holding the changes made since: written while a service runs, as a build that reads format 2
 * would read the file and drop the journal without a word. A clean stop folds the journal in and
 * writes format 1 or 2 again.
 */
const JOURNALED_FORMAT = 3;
/** The format a state is written in: the oldest that holds all of it. */
function formatFor(state: StoredState): 1 | 2 {
  for (const id in state.nodes) if (state.nodes[id]?.offlineWrites !== undefined) return 2;
  return 1;
}
const fileSchema = z.object({
  format: z.union([z.literal(1), z.literal(2), z.literal(JOURNALED_FORMAT)]),
  // What the protocol forbids (a node following itself, a source twice) would be sent to the node as
  // a desire: its real pairing undone, the impossible one retried for ever.
  nodes: z.record(z.string(), recordSchema).superRefine((nodes, ctx) => {
    for (const [id, r] of Object.entries(nodes)) {
      const lists: [(string | number)[], readonly NodeId[]][] = [[[id, "sources"], r.sources]];
      r.offlineWrites?.forEach((w, i) => {
        lists.push(
          [[id, "offlineWrites", i, "sources"], w.sources],
          [[id, "offlineWrites", i, "before"], w.before],
        );
      });
      for (const [path, sources] of lists) {
        if (sources.includes(id as NodeId))
          ctx.addIssue({ code: "custom", path, message: "a node cannot follow itself" });
        const twice = sources.find((s, i) => sources.indexOf(s) !== i);
        if (twice !== undefined) ctx.addIssue({ code: "custom", path, message: `names ${twice} twice` });
      }
    }
  }),
});

export const STORE_FILE = "twins.json";

/**
 * A JSON file under `dir` (created if missing). A corrupt file is an error, not an empty fleet; so is
 * a directory no file can be written in (a full disk, a read-only mount), named with the cause.
 */
export async function jsonFileStore(dir: string, logger?: Logger): Promise<TwinsStore> {
  try {
    makeDir(dir);
  } catch (err) {
    throw dataDirError(dir, err);
  }
  const file = join(dir, STORE_FILE);
  const { lock, previous, copied } = await holdDirectory(dir);
  if (copied !== undefined)
    logger?.info({ pid: copied.pid, written: copied.path }, copiedLockLine(lock, copied));
  try {
    await removeOrphanTemps(dir);
  } catch (e) {
    await rm(lock, { force: true }).catch(() => {});
    throw asDataDirError(dir, e);
  }
  const journalFile = join(dir, JOURNAL_FILE);
  let seq = 0;
  /** The newest generation seen or written: a new snapshot's is one more. */
  let generation = 0;
  let snapshotBytes = 0;
  /** The journal's length this run; undefined until a whole save has made it (or after a failure). */
  let journalBytes: number | undefined;
  const store: TwinsStore = {
    where: file,
    historyFile: join(dir, HISTORY_FILE),
    ...(previous !== undefined ? { previous } : {}),
    // A line of its own after the pid's: a build that reads only the pid and identity ignores it.
    // Synced with the directory before the presence is published: a power cut takes the host's
    // unwritten pages too, and with them what the next service needs to know its predecessor.
    async holdAs(clientId, since) {
      const fh = await open(lock, "a");
      try {
        await fh.appendFile(`${PRESENCE_LINE} ${clientId} ${Math.floor(since)}\n`);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await syncDir(dir);
    },
    async load() {
      let text: string;
      try {
        text = await readFile(file, "utf8");
      } catch (e) {
        if (isErrno(e, "ENOENT")) {
          await readJournal(journalFile, undefined, logger, CORRUPT_HINT); // says it is left out
          return { nodes: {} };
        }
        const why = isErrno(e, "EISDIR") ? "it is a directory" : (e as Error).message;
        throw new Error(`twins store ${file} cannot be read: ${why}; move it away to start without it`);
      }
      snapshotBytes = Buffer.byteLength(text);
      const json = parseJson(text);
      if (!json.ok) throw new Error(`twins store ${file} ${json.why}; ${CORRUPT_HINT}`);
      const format = formatOf(json.value);
      if (format !== undefined && format > STORE_FORMAT)
        throw new Error(
          `twins store ${file} is in format ${format}, written by a newer twinfleet; this one reads formats up to ${STORE_FORMAT}: ` +
            "run a twinfleet that reads it (the file is left as it is; moving it away loses pending sets and pairings of offline nodes)",
        );
      const value = json.value as { journal?: unknown; nodes?: unknown };
      const gen = Number.isInteger(value.journal) ? (value.journal as number) : undefined;
      generation = Math.max(generation, gen ?? 0);
      const changes = await readJournal(journalFile, gen, logger, CORRUPT_HINT);
      let where = file;
      if (
        changes !== undefined &&
        changes.size > 0 &&
        typeof value.nodes === "object" &&
        value.nodes !== null
      ) {
        const nodes = value.nodes as Record<string, unknown>;
        for (const [id, rec] of changes)
          if (rec === undefined) delete nodes[id];
          else nodes[id] = rec;
        where = `${file} with its journal ${journalFile}`;
      }
      const parsed = fileSchema.safeParse(json.value);
      if (!parsed.success) {
        throw new Error(
          `twins store ${where} is not a valid twins file: ${z.prettifyError(parsed.error)}; ${CORRUPT_HINT}`,
        );
      }
      const nodes: Record<string, DesiredRecord> = {};
      for (const [id, rec] of Object.entries(parsed.data.nodes)) {
        if (!isNodeId(id)) throw new Error(`twins store ${where}: ${JSON.stringify(id)} is not a node id`);
        nodes[id] = rec;
      }
      return { nodes };
    },
    // Whole: the snapshot, then a journal of its own (each renamed into place and synced with the
    // directory, in that order: a crash between leaves the old journal, of another generation,
    // which the snapshot holds). The last, as the service stops: the snapshot alone, in format 1
    // or 2, which every build reads, and no journal.
    async save(state, journaled = false) {
      const last = !journaled;
      journalBytes = undefined;
      const gen = generation + 1;
      const format = last ? formatFor(state) : JOURNALED_FORMAT;
      const text = `${JSON.stringify({ format, ...(last ? {} : { journal: gen }), nodes: state.nodes }, null, 1)}\n`;
      await replaceFile(dir, file, text, seq++);
      snapshotBytes = Buffer.byteLength(text);
      if (last) {
        if (await removed(journalFile)) await syncDir(dir);
        return;
      }
      const header = journalHeader(gen);
      await replaceFile(dir, journalFile, header, seq++);
      generation = gen;
      journalBytes = header.length;
    },
    // After a failed append the journal may end in a piece of a line: the next write is whole.
    async append(changes, whole) {
      if (journalBytes === undefined) return store.save(whole(), true);
      const text = journalLines(changes);
      try {
        await appendSynced(journalFile, text);
      } catch (e) {
        journalBytes = undefined;
        throw e;
      }
      journalBytes += Buffer.byteLength(text);
      // The changes are stored: a fold that fails leaves a snapshot and a journal that hold them, and
      // the next write is whole (journalBytes unset), saying why if it fails too.
      if (journalBytes > Math.max(JOURNAL_MIN_BYTES, snapshotBytes))
        await store.save(whole(), true).catch(() => {});
    },
    // A lock left behind (a disk remounted read-only) is said, to `logger`, not thrown: the service
    // has stopped as it should, and the next start takes the lock over, as its process is gone.
    async close() {
      try {
        await rm(lock, { force: true });
      } catch (e) {
        const left = `twins: ${dataDirError(dir, e, "written").message}: its lock ${lock} is left, and the next twins service on it takes it over`;
        if (logger === undefined) throw new Error(left);
        logger.warn(left);
      }
    },
  };
  return store;
}

const CORRUPT_HINT =
  "restore it from a backup, or move it away to start without it (pairings the nodes hold are read " +
  "back from their retained configs; pending sets and pending pairings of offline nodes are lost)";

/** The file's `format` when it is a whole number, else undefined (the schema then says what is wrong). */
function formatOf(value: unknown): number | undefined {
  const format =
    typeof value === "object" && value !== null ? (value as { format?: unknown }).format : undefined;
  return Number.isInteger(format) ? (format as number) : undefined;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; why: string } {
  if (text.trim() === "")
    return { ok: false, why: "is empty (a crash or a full disk while it was written?)" };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return { ok: false, why: `is not JSON, truncated or corrupt (${(e as Error).message})` };
  }
}

/** Removes `file`; false when there was none. */
async function removed(file: string): Promise<boolean> {
  try {
    await rm(file);
    return true;
  } catch (e) {
    if (isErrno(e, "ENOENT")) return false;
    throw e;
  }
}

/** `twins.json.<pid>.<n>.tmp` (and `twins.journal.…`) files whose writer is gone: a crash mid-save left them. */
async function removeOrphanTemps(dir: string): Promise<void> {
  const temp = /^twins\.(?:json|journal)\.(\d+)\.\d+\.tmp$/;
  for (const name of await readdir(dir)) {
    const pid = temp.exec(name)?.[1];
    if (pid !== undefined && !processAlive(Number(pid))) await rm(join(dir, name), { force: true });
  }
}
