/**
 * `GET /backup` of a standalone broker's HTTP server (`twinfleet broker --http`): one snapshot of its
 * LevelDB store, streamed as broker/store-backup.ts frames it, for `twinfleet broker backup` to write
 * into a store of its own. A read, with the token rules of `/metrics` (beyond loopback it needs the
 * token). One backup at a time: a second while one runs is a 409 naming the running one (to where,
 * for how long, how far), as is a broker whose store is in memory or in Redis (naming why). HEAD
 * answers the same status without taking a snapshot.
 * A client that stops reading (a frozen script, a host gone without a word) holds the snapshot and
 * the one backup at a time only until BACKUP_STALL_MS pass with nothing of it read: its connection
 * is cut then, and the next backup may start.
 */
import { Readable } from "node:stream";
import type { FastifyInstance } from "fastify";
import type { BackupSummary, BrokerFigures } from "../broker/index.js";
import { every, RealScheduler, type Scheduler } from "../node/scheduler.js";
import { problem, sendProblem } from "./problem.js";

/** What the broker is told of each backup it gave (its log). */
export type BackupLog = (
  outcome: { readonly summary: BackupSummary } | { readonly error: string },
  remote: string,
) => void;

export const BACKUP_TYPE = "application/vnd.twinfleet.store-backup";

/**
 * How long a backup's client may read nothing before its connection is cut, ms: far past what a
 * slow link or a busy receiver takes for the kernel's buffers (some MB) to take a next chunk.
 */
export const BACKUP_STALL_MS = 60_000;

export interface BackupRouteOptions {
  readonly log?: BackupLog | undefined;
  /** The clock the stall is measured on (the host's by default). */
  readonly scheduler?: Scheduler | undefined;
  readonly stallMs?: number | undefined;
}

export function addBackupRoute(
  app: FastifyInstance,
  figuresNow: () => BrokerFigures | undefined,
  o: BackupRouteOptions = {},
): void {
  const { log } = o;
  const stallMs = o.stallMs ?? BACKUP_STALL_MS;
  let scheduler = o.scheduler;
  /** The backup under way: to whom, since when on its clock, and how far it came. */
  let running: { remote: string; since: number; clock: Scheduler; stall: Stall } | undefined;
  const underWay = (r: NonNullable<typeof running>) =>
    problem(
      409,
      `a backup of this broker is under way already, to ${r.remote} for ${Math.round((r.clock.now() - r.since) / 1000)} s (${r.stall.bytes} bytes of it sent): one at a time; take this one once it ends, or once its client has read nothing of it for ${stallMs / 1000} s (it is cut then)`,
    );
  app.get("/backup", { exposeHeadRoute: false }, async (req, reply) => {
    const figures = figuresNow();
    if (figures === undefined) return sendProblem(reply, problem(503, "the broker is starting"));
    if (!figures.listening()) return sendProblem(reply, problem(503, "the broker is closing"));
    if (running !== undefined) return sendProblem(reply, underWay(running));
    const taken = figures.backup();
    if ("refused" in taken) return sendProblem(reply, problem(409, taken.refused));
    const remote = req.socket.remoteAddress ?? "?";
    if (scheduler === undefined) scheduler = new RealScheduler();
    const clock = scheduler;
    const stall: Stall = { since: undefined, cut: undefined, bytes: 0 };
    running = { remote, since: clock.now(), clock, stall };
    const body = Readable.from(
      told(taken.stream, (outcome) => log?.(outcome, remote), stall, clock),
      { objectMode: false },
    );
    const watch = every(clock, Math.min(1000, stallMs), () => {
      if (stall.since === undefined || clock.now() - stall.since < stallMs) return;
      stall.cut = `the client read nothing of it for ${stallMs / 1000} s: its connection was cut, and the next backup may start`;
      // A reset, not a close: the kernel lets go of the MB queued for it at once.
      req.socket.resetAndDestroy();
    });
    body.once("close", () => {
      watch.cancel();
      running = undefined;
    });
    return reply.type(BACKUP_TYPE).send(body);
  });
  // What a GET would answer, without taking a snapshot.
  app.head("/backup", async (_req, reply) => {
    const figures = figuresNow();
    if (figures === undefined) return sendProblem(reply, problem(503, "the broker is starting"));
    if (!figures.listening()) return sendProblem(reply, problem(503, "the broker is closing"));
    if (running !== undefined) return sendProblem(reply, underWay(running));
    if (figures.store !== "level") {
      const taken = figures.backup();
      if ("refused" in taken) return sendProblem(reply, problem(409, taken.refused));
    }
    return reply.type(BACKUP_TYPE).send();
  });
}

/**
 * Since when the stream waits for its client to take a chunk (undefined: not waiting), why it was
 * cut, and the bytes the client took.
 */
interface Stall {
  since: number | undefined;
  cut: string | undefined;
  bytes: number;
}

/** `stream`, with its summary (or why it stopped) told at its end, and its waits on the client noted. */
async function* told(
  stream: AsyncGenerator<Buffer, BackupSummary>,
  tell: (outcome: { summary: BackupSummary } | { error: string }) => void,
  stall: Stall,
  clock: Scheduler,
): AsyncGenerator<Buffer> {
  let done = false;
  try {
    let next = await stream.next();
    while (next.done !== true) {
      stall.since = clock.now();
      yield next.value;
      stall.since = undefined;
      stall.bytes += next.value.length;
      next = await stream.next();
    }
    const summary = next.value;
    done = true;
    tell({ summary });
  } catch (err) {
    done = true;
    tell({ error: (err as Error).message });
    throw err;
  } finally {
    if (!done) tell({ error: stall.cut ?? "the client went away before the end" });
    // A generator left half-way (the client gone) closes the snapshot's iterator.
    if (!done) await stream.return(undefined as never).catch(() => {});
  }
}
