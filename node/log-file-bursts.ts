/**
 * Owns how a log file groups node lines of one kind that many nodes have at once: the rules every
 * node-event log follows (node/node-bursts.ts) with a log file's figures, each line a pino record
 * (the kind its message, its node's fields), the nodes counted in a summary still each at debug.
 * The first LOG_ONE_BY_ONE of a burst are each on their own line, as a lone node is; the rest are
 * counted in a line a second while they come, naming the first few. The standalone twins service's
 * log (cli/burst-log.ts) and the twins service's offline writes (twins/offline-writes-log.ts) group
 * through it, each with its own summary's wording.
 */
import type { Logger } from "pino";
import type { NodeId } from "../protocol/index.js";
import { type BurstSummary, NodeBursts } from "./node-bursts.js";
import type { Scheduler } from "./scheduler.js";

/** Nodes of a burst logged on their own line, as a lone node is. */
export const LOG_ONE_BY_ONE = 5;
/** How long a summary gathers the rest before its line is written. */
export const LOG_WINDOW_MS = 1_000;
/** A pause this long between two nodes ends a burst: the next node is on its own line again. */
export const LOG_QUIET_MS = 1_000;
/** Nodes a summary names (it counts them all). */
const NAMED = 10;

/**
 * A summary's message and the fields it adds to its own (`nodes`, `lines`, `first`, `seconds`),
 * given the summary and the seconds it covers (at least 1).
 */
export type SummaryWords<Kind extends string> = (
  s: BurstSummary<Kind>,
  seconds: number,
) => { readonly text: string; readonly fields?: Record<string, unknown> };

/** The lines of the kinds `Kind` (each its message), grouped; summaries worded by `words`. */
export class LogFileBursts<Kind extends string> {
  private readonly bursts: NodeBursts<Kind, object>;

  constructor(logger: Logger, sched: Scheduler, words: SummaryWords<Kind>) {
    const rules = { oneByOne: LOG_ONE_BY_ONE, named: NAMED, quietMs: LOG_QUIET_MS, maxMs: LOG_WINDOW_MS };
    this.bursts = new NodeBursts(sched, rules, {
      line: (kind, fields) => logger.info(fields, kind),
      counted: (kind, fields) => logger.debug(fields, kind),
      summary: (s) => {
        const seconds = Math.max(1, Math.ceil((s.lastAt - s.since) / 1000));
        const { text, fields } = words(s, seconds);
        logger.info({ nodes: s.count, lines: s.lines, first: s.named, seconds, ...fields }, text);
      },
    });
  }

  /** Node `node` has a line of kind `kind` (its message), with `fields` (`{ node }` by default). */
  node(kind: Kind, node: NodeId, fields: object = { node }): void {
    this.bursts.node(kind, node, fields);
  }

  /** Writes the summaries under way now (the service stops). */
  flush(): void {
    this.bursts.flush();
  }
}
