/**
 * The lines of the retained configs this service writes for nodes away. One pairing is one line, as
 * before; a bulk re-pairing (an operator's script putting 5,000 pairings through the API while the
 * nodes are off) is grouped as a log file groups node lines (node/log-file-bursts.ts): the first
 * LOG_ONE_BY_ONE (5) of a burst each on its own line, the rest counted in a line a second while
 * they come (`twins: wrote the retained configs of 4,995 more offline nodes within 1 s (n-0005, …)`),
 * each node still at debug. Before, each was its own info line: 5,000 lines for 5,000 pairings.
 */
import type { Logger } from "pino";
import { LOG_WINDOW_MS, LogFileBursts } from "../node/log-file-bursts.js";
import { extraLines, namedNodes } from "../node/node-bursts.js";
import type { NodeId } from "../protocol/index.js";
import type { Scheduler } from "./clock.js";

/** How long a summary gathers the rest, and the pause that ends a burst. */
export const OFFLINE_WRITES_WINDOW_MS = LOG_WINDOW_MS;

export const OFFLINE_WRITE_LINE = "twins: wrote the retained config of an offline node";

export class OfflineWritesLog {
  private readonly bursts: LogFileBursts<typeof OFFLINE_WRITE_LINE>;

  constructor(logger: Logger, sched: Scheduler) {
    this.bursts = new LogFileBursts(logger, sched, (s, seconds) => ({
      text: `twins: wrote the retained configs of ${s.count} more offline ${s.count === 1 ? "node" : "nodes"} within ${seconds} s${extraLines(s)} (${namedNodes(s)}; each at debug)`,
    }));
  }

  /** The retained config `version` of `node`, away, was written. */
  written(node: NodeId, version: number, sources: readonly NodeId[]): void {
    this.bursts.node(OFFLINE_WRITE_LINE, node, { node, version, sources });
  }

  /** Writes the summary under way (the service stops). */
  flush(): void {
    this.bursts.flush();
  }
}
