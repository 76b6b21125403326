/**
 * The twins data directory's lock (`twins.lock`): which process holds the directory, the presence
 * its service recorded and what it last read of its broker's start (both taken over from a crashed
 * predecessor: twins/predecessor.ts, twins/broker-restart.ts), and the directory it was written in,
 * so that a copy of the directory (a backup restored, a directory copied to another machine) is told
 * from the directory in use. The store (twins/store.ts) takes it when it opens.
 */
import { readFile, rm, stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { dataDirError } from "../node/make-dir.js";
import { lockHeld, lockLine, lockWriter } from "../node/process-alive.js";

/** The service that held a store's directory before and left its lock (kill -9, a power loss, a read-only stop). */
export interface PreviousHolder {
  readonly pid: number;
  /** The client id of its presence on the broker, and when it started (`since`, ms since the epoch). */
  readonly clientId: string;
  readonly since: number;
}

/**
 * What a service last read of its broker's start (twins/broker-restart.ts), recorded for the service
 * after it on the directory: one that starts after a power cut took both it and the broker compares
 * its first connection with it, as a connection compares with the one before.
 */
export interface BrokerSeen {
  /** twinfleet's broker's start id (`$SYS/broker/start-id`). */
  readonly startId?: string;
  /** When the broker started by its uptime (Mosquitto's `$SYS/broker/uptime`), a date in ms. */
  readonly startedAt?: number;
}

export const LOCK_FILE = "twins.lock";
/** The lock's line naming the presence its service holds: `presence <client id> <since>`. */
export const PRESENCE_LINE = "presence";
/** The lock's lines of what its service read of its broker's start: `broker-start-id <id>`, `broker-started <ms>`. */
export const BROKER_START_ID_LINE = "broker-start-id";
export const BROKER_STARTED_LINE = "broker-started";
/** A start id a lock line may hold: printable, no space, bounded (twinfleet's broker's is a uuid and a pid). */
const START_ID = /^[\x21-\x7e]{1,128}$/;

/** The lines recording `seen` in a lock (nothing for a start id no line can hold). */
export function brokerSeenLines(seen: BrokerSeen): string {
  const id =
    seen.startId !== undefined && START_ID.test(seen.startId)
      ? `${BROKER_START_ID_LINE} ${seen.startId}\n`
      : "";
  const at =
    seen.startedAt !== undefined && Number.isFinite(seen.startedAt) && seen.startedAt >= 0
      ? `${BROKER_STARTED_LINE} ${Math.floor(seen.startedAt)}\n`
      : "";
  return id + at;
}

/**
 * `seen` as twins.json keeps it (`"broker": {"startId": …, "startedAt": …}`, twins/store-format.ts),
 * what a line could not hold left out; undefined when nothing is left.
 */
export function brokerSeenKept(seen: BrokerSeen | undefined): BrokerSeen | undefined {
  return seen === undefined ? undefined : brokerSeenOf(brokerSeenLines(seen));
}

/** What twins.json's `broker` holds (anything else in its place: nothing, as a file without it). */
export function brokerSeenIn(value: unknown): BrokerSeen | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const { startId, startedAt } = value as { startId?: unknown; startedAt?: unknown };
  return brokerSeenKept({
    ...(typeof startId === "string" ? { startId } : {}),
    ...(typeof startedAt === "number" ? { startedAt } : {}),
  });
}

/** What a lock's service last read of its broker's start (its last line of each kind), if anything. */
export function brokerSeenOf(lockText: string): BrokerSeen | undefined {
  let startId: string | undefined;
  let startedAt: number | undefined;
  for (const line of lockText.split("\n")) {
    const [kind, value, ...rest] = line.split(" ");
    if (value === undefined || rest.length > 0) continue;
    if (kind === BROKER_START_ID_LINE && START_ID.test(value)) startId = value;
    if (kind === BROKER_STARTED_LINE && /^(0|[1-9][0-9]{0,15})$/.test(value)) startedAt = Number(value);
  }
  if (startId === undefined && startedAt === undefined) return undefined;
  return { ...(startId !== undefined ? { startId } : {}), ...(startedAt !== undefined ? { startedAt } : {}) };
}

/**
 * Takes `dir` for this process: `twins.lock` holds the pid and who the process is (boot and start
 * time: node/process-alive.ts); one a live process holds is an error, one whose process is gone (a
 * crash, kill -9) is taken over — also when another process has its pid since (after a reboot, as
 * pids are handed out again, a systemd unit looped on "in use by another twins service"). A lock of
 * a build that wrote only the pid is taken over when the pid's process is no Node.js program started
 * after the lock was written (node/process-alive.ts): an upgrade after a crash and a reboot looped the
 * same way on such a lock. Resolves
 * to the lock file's path and, for a lock taken over, the presence its service recorded and what it
 * last read of its broker's start.
 */
export async function holdDirectory(
  dir: string,
): Promise<{ lock: string; previous?: PreviousHolder; brokerSeen?: BrokerSeen; copied?: CopiedLock }> {
  const lock = join(dir, LOCK_FILE);
  const here = await directoryId(dir);
  let previous: PreviousHolder | undefined;
  let brokerSeen: BrokerSeen | undefined;
  let copied: CopiedLock | undefined;
  for (;;) {
    try {
      const written = here === undefined ? "" : `${DIRECTORY_LINE} ${here} ${resolve(dir)}\n`;
      await writeFile(lock, `${lockLine()}\n${written}`, { flag: "wx" });
      return {
        lock,
        ...(previous !== undefined ? { previous } : {}),
        ...(brokerSeen !== undefined ? { brokerSeen } : {}),
        ...(copied !== undefined ? { copied } : {}),
      };
    } catch (e) {
      if (!isErrno(e, "EEXIST")) {
        // Made, then not written (a full disk): not left for the next start to take over.
        await rm(lock, { force: true }).catch(() => {});
        throw asDataDirError(dir, e);
      }
    }
    const text = await readFile(lock, "utf8").catch(() => "");
    const writtenAt = await stat(lock).then(
      (s) => s.mtimeMs,
      () => undefined,
    );
    const { pid, identity } = lockWriter(text);
    const writtenFor = directoryOf(text);
    if (here !== undefined && writtenFor !== undefined && writtenFor.id !== here) {
      // A copy's lock (cp -a, tar, a restored backup): its pid ran on the directory it was copied
      // from, which this is not, and the presence it names is that directory's service's.
      copied = { pid, path: writtenFor.path };
      await rm(lock, { force: true }).catch((e: unknown) => {
        throw asDataDirError(dir, e);
      });
      continue;
    }
    if (lockHeld({ pid, identity }, writtenAt)) {
      throw new Error(
        `data directory ${dir} is in use by another twins service (pid ${pid}, ${lock}): two saving ` +
          "into one file replace each other's state; give each its own --data, or stop the other",
      );
    }
    // Its process is gone (or it is this one's, from an earlier start in this process).
    previous = presenceOf(pid, text);
    brokerSeen = brokerSeenOf(text);
    await rm(lock, { force: true }).catch((e: unknown) => {
      throw asDataDirError(dir, e);
    });
  }
}

/**
 * The lock's line naming the directory it was written in: `directory <inode> <absolute path>`. A
 * copy of the directory (cp -a, tar, rsync; a backup restored in its place or on another machine) is
 * another directory, with another inode, while `mv` within a file system keeps it.
 */
const DIRECTORY_LINE = "directory";

/** A lock written in another directory, of which this one is a copy: its writer's pid and that directory. */
export interface CopiedLock {
  readonly pid: number;
  readonly path: string;
}

/** `dir`'s inode, as a decimal string (inodes may pass 2^53); undefined where the file system gives none. */
async function directoryId(dir: string): Promise<string | undefined> {
  const ino = await stat(dir, { bigint: true }).then(
    (s) => s.ino,
    () => 0n,
  );
  return ino === 0n ? undefined : ino.toString();
}

/** The directory a lock was written in (its `directory` line), if it names one. */
function directoryOf(lockText: string): { id: string; path: string } | undefined {
  for (const line of lockText.split("\n")) {
    const m = /^directory (\d+) (.+)$/.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined) return { id: m[1], path: m[2] };
  }
  return undefined;
}

/** The line told when a copy's lock is taken over. */
export function copiedLockLine(lock: string, copied: CopiedLock): string {
  return (
    `twins: ${lock} was copied with the directory (a backup restored, a directory copied or moved to another machine): ` +
    `it was written by pid ${copied.pid} in ${copied.path}, not here, so it holds nothing here and is taken over; ` +
    "the presence it names is that directory's service's, left alone"
  );
}

/** The presence a lock's service recorded (its last `presence` line), if whole. */
function presenceOf(pid: number, lockText: string): PreviousHolder | undefined {
  const line = lockText
    .split("\n")
    .filter((l) => l.startsWith(`${PRESENCE_LINE} `))
    .at(-1);
  const m = line === undefined ? null : /^presence ([A-Za-z0-9_.-]{1,64}) (0|[1-9][0-9]{0,15})$/.exec(line);
  if (!m?.[1] || !Number.isInteger(pid)) return undefined;
  return { pid, clientId: m[1], since: Number(m[2]) };
}

/** An error of the file system in `dir` (a full disk, a read-only mount) as one line naming it; others as they are. */
export function asDataDirError(dir: string, e: unknown): unknown {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === "string"
    ? dataDirError(dir, e, "written")
    : e;
}

export function isErrno(e: unknown, code: string): boolean {
  return e instanceof Error && "code" in e && e.code === code;
}
