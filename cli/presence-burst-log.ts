/**
 * A standalone twins service's `offline` and `online`-again lines when many nodes go or come back at
 * once (a site's power cut, a switch rebooting, the fleet's host killed): the first
 * PRESENCE_ONE_BY_ONE of a burst each on its own line as for a lone node, the rest counted in a line
 * a second while they come, naming the first few, each node still at debug: `offline: 495 more nodes
 * within 1 s (n-0005, n-0006, … 485 more); 0 of 500 nodes online`. A burst lasts while nodes keep
 * coming less than PRESENCE_QUIET_MS apart. Before, a 500-node fleet going offline at once wrote 500
 * lines within 0.1 s, and its return 500 more, the line telling what happened drowned among them.
 */
import type { Logger } from "pino";
import { after, type Scheduler, type Timer } from "../node/scheduler.js";
import type { NodeId } from "../protocol/index.js";
import type { FleetCount } from "./activity-log.js";

/** Nodes of a burst logged on their own line, as a lone node is. */
export const PRESENCE_ONE_BY_ONE = 5;
/** How long a summary gathers the rest before its line is written. */
export const PRESENCE_WINDOW_MS = 1_000;
/** A pause this long between two nodes ends a burst: the next node is on its own line again. */
export const PRESENCE_QUIET_MS = 1_000;
/** Nodes a summary names (it counts them all). */
const NAMED = 10;

type Way = "offline" | "online";

interface Burst {
  lastAt: number;
  told: number;
  pending: { nodes: NodeId[]; count: number; since: number; lastAt: number; timer: Timer } | undefined;
}

export class PresenceBurstLog {
  private readonly bursts: Record<Way, Burst> = {
    offline: { lastAt: Number.NEGATIVE_INFINITY, told: 0, pending: undefined },
    online: { lastAt: Number.NEGATIVE_INFINITY, told: 0, pending: undefined },
  };

  constructor(
    private readonly logger: Logger,
    private readonly sched: Scheduler,
    private readonly fleet: () => FleetCount,
  ) {}

  /** A node went offline (`offline`) or came back after the service saw it leave (`online`). */
  node(way: Way, node: NodeId): void {
    const b = this.bursts[way];
    const now = this.sched.now();
    if (now - b.lastAt >= PRESENCE_QUIET_MS) b.told = 0;
    b.lastAt = now;
    if (b.told < PRESENCE_ONE_BY_ONE) {
      b.told++;
      this.logger.info({ node }, way);
      return;
    }
    this.logger.debug({ node }, way);
    if (b.pending === undefined) {
      const timer = after(this.sched, PRESENCE_WINDOW_MS, () => this.flushWay(way));
      b.pending = { nodes: [], count: 0, since: now, lastAt: now, timer };
    }
    const p = b.pending;
    p.count++;
    p.lastAt = now;
    if (p.nodes.length < NAMED) p.nodes.push(node);
  }

  /** Writes the summaries under way now (the service stops). */
  flush(): void {
    this.flushWay("offline");
    this.flushWay("online");
  }

  private flushWay(way: Way): void {
    const b = this.bursts[way];
    const p = b.pending;
    if (p === undefined) return;
    b.pending = undefined;
    p.timer.cancel();
    const seconds = Math.max(1, Math.ceil((p.lastAt - p.since) / 1000));
    const { online, known } = this.fleet();
    const rest = p.count - p.nodes.length;
    const named = rest > 0 ? `${p.nodes.join(", ")}, … ${rest} more` : p.nodes.join(", ");
    this.logger.info(
      { nodes: p.count, first: p.nodes, seconds, online, known },
      `${way}: ${p.count} more ${p.count === 1 ? "node" : "nodes"} within ${seconds} s (${named}); ${online} of ${known} nodes online (each at debug)`,
    );
  }
}
