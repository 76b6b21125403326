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
 * The file names its fleet's topic prefix, and is refused to a service of another. Changes between
 * rewrites go to a journal beside it (store-journal.ts), which a start takes on as it finds it (but
 * one written after another twins.json, set aside: store-aside.ts); the
 * only write in place is the format digit of a clean stop's file, set as that journal begins.
 */
import { open, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import { z } from "zod";
import { probeWritable } from "../node/dir-probe.js";
import { dataDirError, makeDir } from "../node/make-dir.js";
import { isNodeId } from "../protocol/index.js";
import { readRegularFile } from "./bounded-lines.js";
import { HISTORY_FILE } from "./history-file.js";
import { permissionHint } from "./store-access.js";
import { notIts, setAsideJournal } from "./store-aside.js";
import { PROBE_SERVICE, removeOrphanTemps } from "./store-dir.js";
import {
  CORRUPT_HINT,
  fileSchema,
  formatFor,
  formatOf,
  JOURNALED_FORMAT,
  markable,
  markJournaled,
  otherFleetError,
  parseJson,
  STORE_FORMAT,
} from "./store-format.js";
import {
  appendSynced,
  type DiskPace,
  JOURNAL_FILE,
  JOURNAL_MIN_BYTES,
  type JournalRead,
  journalHeader,
  journalLines,
  readJournal,
  removed,
  replaceFile,
  replaceInSlices,
  syncDir,
  truncateSynced,
  UNTOLD_PACE,
} from "./store-journal.js";
import {
  asDataDirError,
  type BrokerSeen,
  brokerSeenIn,
  brokerSeenKept,
  brokerSeenLines,
  copiedLockLine,
  holdDirectory,
  isErrno,
  PRESENCE_LINE,
  type PreviousHolder,
} from "./store-lock.js";
import type { DesiredRecord, StoredState } from "./store-records.js";
import { type Slicing, slicingOf, snapshotSlices, type Whole } from "./store-slices.js";

export { MAX_OFFLINE_WRITES } from "./store-format.js";
export { type BrokerSeen, LOCK_FILE, type PreviousHolder } from "./store-lock.js";
export type { DesiredRecord, StoredOfflineWrite, StoredState } from "./store-records.js";

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
  /**
   * What the service before this one on the store last read of its broker's start (twins/broker-restart.ts):
   * a broker restarted since is told at the first connection too. Its lock's lines when it left without
   * a goodbye; else what twins.json keeps of it, written at each save and as it stopped (read once
   * `load` has). Absent when none was read.
   */
  readonly brokerSeen?: BrokerSeen;
  /** Records what the service holding the store read of its broker's start, for the service after it (`brokerSeen`). */
  sawBroker?(seen: BrokerSeen): Promise<void>;
  /**
   * The stored state of the fleet under the topic prefix `fleet`: a store that holds another fleet's
   * state refuses it (throws, naming both prefixes), one that names none is taken as this fleet's.
   */
  load(fleet?: string): Promise<StoredState>;
  /**
   * Replaces the stored state with `state`, which the caller no longer changes. Calls are serialised
   * by the caller. `journaled`: appends follow (format 3, a fresh journal); without it, the state
   * alone, a journal folded in and removed (as the service stops). `pace` is told when the write
   * stops waiting on the disk to make its next piece, and waits on it again (store-journal.ts DiskPace).
   */
  save(state: StoredState, journaled?: boolean, pace?: DiskPace): Promise<void>;
  /**
   * Stores the records of the nodes in `changes` (undefined: out of the store) over what is stored;
   * `whole` is the state to write instead when the store rewrites itself (its first write, a journal
   * grown past its bound, one that failed). Absent: every save is a `save` of the whole state. `pace`:
   * as `save`'s (the caller's `whole` tells it its own walk).
   */
  append?(
    changes: ReadonlyMap<string, DesiredRecord | undefined>,
    whole: () => Whole,
    pace?: DiskPace,
  ): Promise<void>;
  /** A test write of the store's directory (store-dir.ts): rejects where a save would fail. Absent in memory. */
  probe?(): Promise<void>;
  close(): Promise<void>;
}

export function memoryStore(initial: StoredState = { nodes: {} }): TwinsStore {
  let state = structuredClone(initial);
  return {
    load: async () => structuredClone(state),
    // The saver hands over a fresh snapshot each time (registry.snapshotInSlices): kept as it is, as
    // cloning every record on each save cost more than the snapshot itself on large fleets.
    save: async (s) => {
      state = s;
    },
    close: async () => {},
  };
}

export const STORE_FILE = "twins.json";

/**
 * A JSON file under `dir` (created if missing). A corrupt file is an error, not an empty fleet; so is
 * a directory no file can be written in (a full disk, a read-only mount), named with the cause. A
 * whole snapshot is written `slicing` at a time (twins/store-slices.ts).
 */
export async function jsonFileStore(dir: string, logger?: Logger, slicing?: Slicing): Promise<TwinsStore> {
  const { records, turn } = slicingOf(slicing);
  try {
    makeDir(dir);
  } catch (err) {
    throw dataDirError(dir, err);
  }
  const file = join(dir, STORE_FILE);
  const { lock, previous, brokerSeen, copied } = await holdDirectory(dir);
  if (copied !== undefined)
    logger?.info({ pid: copied.pid, written: copied.path }, copiedLockLine(lock, copied));
  try {
    await removeOrphanTemps(dir, logger);
  } catch (e) {
    await rm(lock, { force: true }).catch(() => {});
    throw asDataDirError(dir, e);
  }
  const journalFile = join(dir, JOURNAL_FILE);
  let seq = 0;
  /** The newest generation seen or written: a new snapshot's is one more. */
  let generation = 0;
  /** A journal left out (another snapshot's, e.g. beside a file an older build wrote): the next generation passes it. */
  let leftOut: number | undefined; // its generation, when it holds changes (store-aside.ts may set it aside)
  const passOver = (gen: number, lines: boolean): void => {
    generation = Math.max(generation, gen);
    if (lines) leftOut = gen;
  };
  let snapshotBytes = 0;
  /** The journal's length this run; undefined until a write has made or taken it on (or after a failure). */
  let journalBytes: number | undefined;
  /** The topic prefix of the fleet whose state the store holds, written into each snapshot. */
  let fleet: string | undefined;
  /** The broker's start as twins.json kept it (`load`), and as this service last read it (`sawBroker`). */
  let keptSeen: BrokerSeen | undefined;
  let latest: BrokerSeen | undefined;
  /**
   * How the first append takes on the snapshot and journal the start found, with `lines`, resolving to
   * the journal's length (set by `load` when the snapshot names the generation of its journal):
   * undefined, it rewrites the snapshot.
   */
  let takeOn: ((lines: string) => Promise<number>) | undefined;
  /**
   * Taking on the snapshot of `gen` in `format`, and `journal`, the whole lines of its journal (none:
   * a fresh one): the snapshot marked format 3 (its one digit, synced) before a journal line is
   * written, as a rewrite would, so a build before the journal never reads it without the journal.
   */
  const takingOn =
    (format: number, gen: number, journal: Pick<JournalRead, "wholeBytes" | "torn"> | undefined) =>
    async (lines: string) => {
      if (format !== JOURNALED_FORMAT) await markJournaled(file);
      if (journal === undefined) {
        const text = journalHeader(gen) + lines;
        await replaceFile(dir, journalFile, text, seq++);
        return Buffer.byteLength(text);
      }
      // A line cut short (never answered as stored) is cut off first: after it, a line would be garbled.
      if (journal.torn) await truncateSynced(journalFile, journal.wholeBytes);
      await appendSynced(journalFile, lines);
      return journal.wholeBytes + Buffer.byteLength(lines);
    };
  const store: TwinsStore = {
    where: file,
    historyFile: join(dir, HISTORY_FILE),
    probe: () => probeWritable(dir, PROBE_SERVICE),
    ...(previous !== undefined ? { previous } : {}),
    // The lock's lines (the last read, left by a service gone without a goodbye), else twins.json's.
    get brokerSeen() {
      return brokerSeen ?? keptSeen;
    },
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
    // Lines of their own, as the presence's; synced, as a power cut is what the next service reads them after.
    async sawBroker(seen) {
      latest = brokerSeenKept(seen) ?? latest; // in the next snapshot, the one written as it stops too
      const lines = brokerSeenLines(seen);
      if (lines === "") return;
      const fh = await open(lock, "a");
      try {
        await fh.appendFile(lines);
        await fh.sync();
      } finally {
        await fh.close();
      }
    },
    async load(of) {
      let text: string;
      fleet = of;
      try {
        text = await readRegularFile(file);
      } catch (e) {
        if (isErrno(e, "ENOENT")) {
          await readJournal(journalFile, undefined, logger, CORRUPT_HINT, passOver);
          if (leftOut !== undefined)
            await setAsideJournal(dir, journalFile, file, { why: "no-snapshot", journal: leftOut }, logger);
          return { nodes: {} };
        }
        const hint = (await permissionHint(file, e)) ?? "move it away to start without it";
        throw new Error(`twins store ${file} cannot be read: ${(e as Error).message}; ${hint}`);
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
      const value = json.value as { journal?: unknown; fleet?: unknown; broker?: unknown; nodes?: unknown };
      // Before its journal is read: another fleet's files are left as they are, and said so alone.
      if (of !== undefined && typeof value.fleet === "string" && value.fleet !== of)
        throw otherFleetError(file, value.fleet, of);
      keptSeen = brokerSeenIn(value.broker);
      const gen = Number.isInteger(value.journal) ? (value.journal as number) : undefined;
      generation = Math.max(generation, gen ?? 0);
      let read = await readJournal(journalFile, gen, logger, CORRUPT_HINT, passOver);
      const not = notIts(read, gen, format, leftOut);
      if (not !== undefined) {
        await setAsideJournal(dir, journalFile, file, not, logger);
        read = undefined;
      }
      const changes = read?.changes;
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
      fleet ??= parsed.data.fleet;
      if (parsed.data.fleet === undefined && of !== undefined)
        logger?.info(
          `twins: ${file} does not name the fleet it is of (written by an earlier twinfleet): taken as the state of the fleet under prefix ${of}, which its next rewrite names`,
        );
      const kept = parsed.data.format;
      takeOn =
        gen !== undefined && markable(text, kept, gen)
          ? takingOn(kept, gen, read && { wholeBytes: read.wholeBytes, torn: read.torn })
          : undefined;
      return { nodes };
    },
    // Whole: the snapshot, then a journal of its own (each renamed into place and synced with the
    // directory, in that order: a crash between leaves the old journal, of another generation,
    // which the snapshot holds). The last, as the service stops: the snapshot alone, in format 1
    // or 2, which every build reads, and no journal; it names the generation of the next run's
    // journal, which that run's first append starts without rewriting it (`takeOn`).
    async save(state, journaled = false, pace = UNTOLD_PACE) {
      const last = !journaled;
      journalBytes = undefined;
      takeOn = undefined;
      const gen = generation + 1;
      const format = last ? formatFor(state) : JOURNALED_FORMAT;
      const text = snapshotSlices(format, gen, fleet, state, latest ?? brokerSeen ?? keptSeen, records);
      const tmp = `${file}.${process.pid}.${seq++}.tmp`;
      snapshotBytes = await replaceInSlices(tmp, dir, file, text, turn, pace);
      generation = gen;
      if (last) {
        if (await removed(journalFile)) await syncDir(dir);
        return;
      }
      const header = journalHeader(gen);
      await replaceFile(dir, journalFile, header, seq++);
      journalBytes = header.length;
    },
    // After a failed append the journal may end in a piece of a line: the next write is whole.
    async append(changes, whole, pace = UNTOLD_PACE) {
      const first = takeOn;
      takeOn = undefined;
      pace.idle(); // the lines made: the event loop's work, not the disk's
      const text = journalLines(changes);
      pace.disk();
      try {
        if (journalBytes !== undefined) {
          await appendSynced(journalFile, text);
          journalBytes += Buffer.byteLength(text);
        } else if (first !== undefined) journalBytes = await first(text);
        else return await store.save(await whole(), true, pace);
      } catch (e) {
        journalBytes = undefined;
        throw e;
      }
      // The changes are stored: a fold that fails leaves a snapshot and a journal that hold them, and
      // the next write is whole (journalBytes unset), saying why if it fails too.
      if (journalBytes > Math.max(JOURNAL_MIN_BYTES, snapshotBytes))
        await Promise.resolve(whole())
          .then((s) => store.save(s, true, pace))
          .catch(() => {});
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
