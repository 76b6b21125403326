/**
 * The twins forgotten to make room at --max-nodes, in a standalone service's log: the first
 * FORGOTTEN_ONE_BY_ONE of a minute one by one, the rest in one warning at the minute's end that
 * counts them and names the first few. A flood of made-up ids forgets a twin per new id, and each
 * was a line: 22,000 ids that came online once and went (`twins --max-nodes 100`) wrote 21,900 lines
 * within seconds, the log growing with every id ever seen.
 */
import type { Logger } from "pino";
import { after, type Scheduler } from "../node/scheduler.js";
import { type NodeId, WarningDigest } from "../protocol/index.js";

export const FORGOTTEN_ONE_BY_ONE = 5;
export const FORGOTTEN_WINDOW_MS = 60_000;
/** Nodes a summed warning names (it counts them all). */
const NAMED = 10;

export const FORGOTTEN_LINE = "forgotten to make room at --max-nodes (offline, nothing desired, no pairing)";

export class ForgottenLog {
  private readonly digest: WarningDigest<NodeId[]>;

  constructor(
    private readonly logger: Logger,
    sched: Scheduler,
  ) {
    this.digest = new WarningDigest(
      FORGOTTEN_ONE_BY_ONE,
      FORGOTTEN_WINDOW_MS,
      { now: () => sched.now(), later: (ms, fn) => after(sched, ms, fn) },
      (): NodeId[] => [],
      (nodes, count) =>
        this.logger.warn(
          { nodes: count, first: nodes },
          `${count} more nodes forgotten to make room at --max-nodes in the minute, besides the ${FORGOTTEN_ONE_BY_ONE} named one by one (first ${nodes.join(", ")}): offline, nothing desired, no pairing`,
        ),
    );
  }

  forgotten(node: NodeId): void {
    const summed = this.digest.hit();
    if (summed === undefined) this.logger.warn({ node }, FORGOTTEN_LINE);
    else if (summed.length < NAMED) summed.push(node);
  }

  /** Writes the summary under way now (the service stops). */
  stop(): void {
    this.digest.flush();
  }
}
