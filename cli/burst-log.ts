/**
 * A standalone twins service's lines of one kind when many nodes have them at once: `offline` and
 * `online`-again when a site's power is cut or a switch reboots, `config` when a fleet is paired
 * (its first pairing, a new topology). Grouped by the rules every node-event log follows
 * (node/node-bursts.ts), with a log file's figures: the first BURST_ONE_BY_ONE of a burst each on
 * its own line as for a lone node, the rest counted in a line a second while they come, naming the
 * first few, each node still at debug: `offline: 495 more nodes within 1 s (n-0005, n-0006, … 485
 * more); 0 of 500 nodes online`. Before, a 500-node fleet going offline at once wrote 500 lines
 * within 0.1 s, its return 500 more, and its first pairing 500 `config` lines within 2 s, the line
 * telling what happened drowned among them.
 */
import type { Logger } from "pino";
import { type BurstSummary, extraLines, NodeBursts, namedNodes } from "../node/node-bursts.js";
import type { Scheduler } from "../node/scheduler.js";
import type { NodeId } from "../protocol/index.js";
import type { FleetCount } from "./activity-log.js";

/** Nodes of a burst logged on their own line, as a lone node is. */
export const BURST_ONE_BY_ONE = 5;
/** How long a summary gathers the rest before its line is written. */
export const BURST_WINDOW_MS = 1_000;
/** A pause this long between two nodes ends a burst: the next node is on its own line again. */
export const BURST_QUIET_MS = 1_000;
/** Nodes a summary names (it counts them all). */
const NAMED = 10;

/** What a summary line ends with: the fleet's figure the burst moved (`0 of 500 nodes online`). */
export type BurstTail = () => { readonly text: string; readonly fields: Record<string, unknown> };

/** The lines of the kinds `Kind`, each with its summary's tail. */
export class BurstLog<Kind extends string> {
  private readonly bursts: NodeBursts<Kind, Record<string, unknown>>;

  constructor(logger: Logger, sched: Scheduler, tails: Readonly<Record<Kind, BurstTail>>) {
    const rules = {
      oneByOne: BURST_ONE_BY_ONE,
      named: NAMED,
      quietMs: BURST_QUIET_MS,
      maxMs: BURST_WINDOW_MS,
    };
    this.bursts = new NodeBursts(sched, rules, {
      line: (kind, fields) => logger.info(fields, kind),
      counted: (kind, fields) => logger.debug(fields, kind),
      summary: (s: BurstSummary<Kind>) => {
        const seconds = Math.max(1, Math.ceil((s.lastAt - s.since) / 1000));
        const tail = tails[s.kind]();
        logger.info(
          { nodes: s.count, lines: s.lines, first: s.named, seconds, ...tail.fields },
          `${s.kind}: ${s.count} more ${s.count === 1 ? "node" : "nodes"} within ${seconds} s${extraLines(s)} (${namedNodes(s)}); ${tail.text} (each at debug)`,
        );
      },
    });
  }

  /** Node `node` has a line of kind `kind` (its message), with `fields` (`{ node }` by default). */
  node(kind: Kind, node: NodeId, fields: Record<string, unknown> = { node }): void {
    this.bursts.node(kind, node, fields);
  }

  /** Writes the summaries under way now (the service stops). */
  flush(): void {
    this.bursts.flush();
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
