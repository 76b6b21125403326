/**
 * A standalone twins service's lines of one kind when many nodes have them at once: `offline` and
 * `online`-again when a site's power is cut or a switch reboots, `config` when a fleet is paired
 * (its first pairing, a new topology). Grouped by the rules every node-event log follows
 * (node/node-bursts.ts), with a log file's figures (node/log-file-bursts.ts): the first BURST_ONE_BY_ONE of a burst each on
 * its own line as for a lone node, the rest counted in a line a second while they come, naming the
 * first few, each node still at debug: `offline: 495 more nodes within 1 s (n-0005, n-0006, … 485
 * more); 0 of 500 nodes online`. Before, a 500-node fleet going offline at once wrote 500 lines
 * within 0.1 s, its return 500 more, and its first pairing 500 `config` lines within 2 s, the line
 * telling what happened drowned among them.
 */
import type { Logger } from "pino";
import { LOG_ONE_BY_ONE, LOG_QUIET_MS, LOG_WINDOW_MS, LogFileBursts } from "../node/log-file-bursts.js";
import { extraLines, namedNodes } from "../node/node-bursts.js";
import type { Scheduler } from "../node/scheduler.js";
import type { FleetCount } from "./activity-log.js";

/** Nodes of a burst logged on their own line, as a lone node is (a log file's: node/log-file-bursts.ts). */
export const BURST_ONE_BY_ONE = LOG_ONE_BY_ONE;
/** How long a summary gathers the rest before its line is written. */
export const BURST_WINDOW_MS = LOG_WINDOW_MS;
/** A pause this long between two nodes ends a burst: the next node is on its own line again. */
export const BURST_QUIET_MS = LOG_QUIET_MS;

/** What a summary line ends with: the fleet's figure the burst moved (`0 of 500 nodes online`). */
export type BurstTail = () => { readonly text: string; readonly fields: Record<string, unknown> };

/** The lines of the kinds `Kind`, each with its summary's tail. */
export class BurstLog<Kind extends string> extends LogFileBursts<Kind> {
  constructor(logger: Logger, sched: Scheduler, tails: Readonly<Record<Kind, BurstTail>>) {
    super(logger, sched, (s, seconds) => {
      const tail = tails[s.kind]();
      return {
        text: `${s.kind}: ${s.count} more ${s.count === 1 ? "node" : "nodes"} within ${seconds} s${extraLines(s)} (${namedNodes(s)}); ${tail.text} (each at debug)`,
        fields: tail.fields,
      };
    });
  }
}

/** A fleet's `offline` and `online`-again lines: their summaries end with how many are online. */
export function presenceBursts(
  logger: Logger,
  sched: Scheduler,
  fleet: () => FleetCount,
): BurstLog<"offline" | "online"> {
  const online: BurstTail = () => {
    const { online, known } = fleet();
    return { text: `${online} of ${known} nodes online`, fields: { online, known } };
  };
  return new BurstLog(logger, sched, { offline: online, online });
}
