/**
 * The lines of the retained configs this service writes for nodes away. One pairing is one line, as
 * before; a bulk re-pairing (an operator's script putting 5,000 pairings through the API while the
 * nodes are off) is grouped by the rules every node-event log follows (node/node-bursts.ts): the first
 * OFFLINE_WRITES_ONE_BY_ONE of a burst each on its own line, the rest counted in a line a second while
 * they come (`twins: wrote the retained configs of 4,995 more offline nodes within 1 s (n-0005, …)`),
 * each node still at debug. Before, each was its own info line: 5,000 lines for 5,000 pairings.
 */
import type { Logger } from "pino";
import { extraLines, NodeBursts, namedNodes } from "../node/node-bursts.js";
import type { NodeId } from "../protocol/index.js";
import type { Scheduler } from "./clock.js";

/** Nodes of a burst logged on their own line, as a lone write is. */
export const OFFLINE_WRITES_ONE_BY_ONE = 5;
/** How long a summary gathers the rest, and the pause that ends a burst. */
export const OFFLINE_WRITES_WINDOW_MS = 1_000;
const NAMED = 10;

export const OFFLINE_WRITE_LINE = "twins: wrote the retained config of an offline node";

interface WriteLine {
  readonly node: NodeId;
  readonly version: number;
  readonly sources: readonly NodeId[];
}

export class OfflineWritesLog {
  private readonly bursts: NodeBursts<"written", WriteLine>;

  constructor(logger: Logger, sched: Scheduler) {
    const rules = {
      oneByOne: OFFLINE_WRITES_ONE_BY_ONE,
      named: NAMED,
      quietMs: OFFLINE_WRITES_WINDOW_MS,
      maxMs: OFFLINE_WRITES_WINDOW_MS,
    };
    this.bursts = new NodeBursts(sched, rules, {
      line: (_kind, line) => logger.info(line, OFFLINE_WRITE_LINE),
      counted: (_kind, line) => logger.debug(line, OFFLINE_WRITE_LINE),
      summary: (s) => {
        const seconds = Math.max(1, Math.ceil((s.lastAt - s.since) / 1000));
        logger.info(
          { nodes: s.count, lines: s.lines, first: s.named, seconds },
          `twins: wrote the retained configs of ${s.count} more offline ${s.count === 1 ? "node" : "nodes"} within ${seconds} s${extraLines(s)} (${namedNodes(s)}; each at debug)`,
        );
      },
    });
  }

  /** The retained config `version` of `node`, away, was written. */
  written(node: NodeId, version: number, sources: readonly NodeId[]): void {
    this.bursts.node("written", node, { node, version, sources });
  }

  /** Writes the summary under way (the service stops). */
  flush(): void {
    this.bursts.flush();
  }
}
