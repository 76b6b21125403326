/**
 * `GET /backup` of a standalone broker's HTTP server (`twinfleet broker --http`): one snapshot of its
 * LevelDB store, streamed as broker/store-backup.ts frames it, for `twinfleet broker backup` to write
 * into a store of its own. A read, with the token rules of `/metrics` (beyond loopback it needs the
 * token). One backup at a time: a second while one runs is a 409, as is a broker whose store is in
 * memory or in Redis (naming why). HEAD answers the same status without taking a snapshot.
 */
import { Readable } from "node:stream";
import type { FastifyInstance } from "fastify";
import type { BackupSummary, BrokerFigures } from "../broker/index.js";
import { problem, sendProblem } from "./problem.js";

/** What the broker is told of each backup it gave (its log). */
export type BackupLog = (
  outcome: { readonly summary: BackupSummary } | { readonly error: string },
  remote: string,
) => void;

export const BACKUP_TYPE = "application/vnd.twinfleet.store-backup";

export function addBackupRoute(app: FastifyInstance, figures: BrokerFigures, log?: BackupLog): void {
  let running = false;
  app.get("/backup", { exposeHeadRoute: false }, async (req, reply) => {
    if (!figures.listening()) return sendProblem(reply, problem(503, "the broker is closing"));
    if (running)
      return sendProblem(
        reply,
        problem(
          409,
          "a backup of this broker is under way already (one at a time): take this one once it ends",
        ),
      );
    const taken = figures.backup();
    if ("refused" in taken) return sendProblem(reply, problem(409, taken.refused));
    running = true;
    const remote = req.socket.remoteAddress ?? "?";
    const body = Readable.from(
      told(taken.stream, (outcome) => log?.(outcome, remote)),
      { objectMode: false },
    );
    body.once("close", () => {
      running = false;
    });
    return reply.type(BACKUP_TYPE).send(body);
  });
  // What a GET would answer, without taking a snapshot.
  app.head("/backup", async (_req, reply) => {
    if (!figures.listening()) return sendProblem(reply, problem(503, "the broker is closing"));
    if (figures.store !== "level") {
      const taken = figures.backup();
      if ("refused" in taken) return sendProblem(reply, problem(409, taken.refused));
    }
    return reply.type(BACKUP_TYPE).send();
  });
}

/** `stream`, with its summary (or why it stopped) told at its end. */
async function* told(
  stream: AsyncGenerator<Buffer, BackupSummary>,
  tell: (outcome: { summary: BackupSummary } | { error: string }) => void,
): AsyncGenerator<Buffer> {
  let done = false;
  try {
    const summary = yield* stream;
    done = true;
    tell({ summary });
  } catch (err) {
    done = true;
    tell({ error: (err as Error).message });
    throw err;
  } finally {
    if (!done) tell({ error: "the client went away before the end" });
  }
}
