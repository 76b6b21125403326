/**
 * A standalone twins service's lines of one kind when many nodes have them at once: `offline` and
 * `online`-again when a site's power is cut or a switch reboots, `config` when a fleet is paired
 * (its first pairing, a new topology). The first BURST_ONE_BY_ONE of a burst each on its own line as
 * for a lone node, the rest counted in a line a second while they come, naming the first few, each
 * node still at debug: `offline: 495 more nodes within 1 s (n-0005, n-0006, … 485 more); 0 of 500
 * nodes online`. A burst lasts while nodes keep coming less than BURST_QUIET_MS apart. Before, a
 * 500-node fleet going offline at once wrote 500 lines within 0.1 s, its return 500 more, and its
 * first pairing 500 `config` lines within 2 s, the line telling what happened drowned among them.
 * A node that a summary of another kind under way counts has that summary written before its own
 * line: a node back in an `online` burst and gone again within its second was logged `offline`
 * above the summary naming it online, which read as the node back.
 */
import type { Logger } from "pino";
import { after, type Scheduler, type Timer } from "../node/scheduler.js";
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

interface Burst {
  lastAt: number;
  told: number;
  pending:
    | { nodes: NodeId[]; counted: Set<NodeId>; count: number; since: number; lastAt: number; timer: Timer }
    | undefined;
}

/** What a summary line ends with: the fleet's figure the burst moved (`0 of 500 nodes online`). */
export type BurstTail = () => { readonly text: string; readonly fields: Record<string, unknown> };

/** The lines of the kinds `Kind`, each with its summary's tail. */
export class BurstLog<Kind extends string> {
  private readonly bursts = new Map<Kind, Burst>();

  constructor(
    private readonly logger: Logger,
    private readonly sched: Scheduler,
    private readonly tails: Readonly<Record<Kind, BurstTail>>,
  ) {}

  /** Node `node` has a line of kind `kind` (its message), with `fields` (`{ node }` by default). */
  node(kind: Kind, node: NodeId, fields: Record<string, unknown> = { node }): void {
    for (const [other, ob] of this.bursts)
      if (other !== kind && ob.pending?.counted.has(node)) this.flushKind(other);
    let b = this.bursts.get(kind);
    if (b === undefined) {
      b = { lastAt: Number.NEGATIVE_INFINITY, told: 0, pending: undefined };
      this.bursts.set(kind, b);
    }
    const now = this.sched.now();
    if (now - b.lastAt >= BURST_QUIET_MS) b.told = 0;
    b.lastAt = now;
    if (b.told < BURST_ONE_BY_ONE) {
      b.told++;
      this.logger.info(fields, kind);
      return;
    }
    this.logger.debug(fields, kind);
    if (b.pending === undefined) {
      const timer = after(this.sched, BURST_WINDOW_MS, () => this.flushKind(kind));
      b.pending = { nodes: [], counted: new Set(), count: 0, since: now, lastAt: now, timer };
    }
    const p = b.pending;
    p.count++;
    p.counted.add(node);
    p.lastAt = now;
    if (p.nodes.length < NAMED) p.nodes.push(node);
  }

  /** Writes the summaries under way now (the service stops). */
  flush(): void {
    for (const kind of this.bursts.keys()) this.flushKind(kind);
  }

  private flushKind(kind: Kind): void {
    const b = this.bursts.get(kind);
    const p = b?.pending;
    if (b === undefined || p === undefined) return;
    b.pending = undefined;
    p.timer.cancel();
    const seconds = Math.max(1, Math.ceil((p.lastAt - p.since) / 1000));
    const tail = this.tails[kind]();
    const rest = p.count - p.nodes.length;
    const named = rest > 0 ? `${p.nodes.join(", ")}, … ${rest} more` : p.nodes.join(", ");
    this.logger.info(
      { nodes: p.count, first: p.nodes, seconds, ...tail.fields },
      `${kind}: ${p.count} more ${p.count === 1 ? "node" : "nodes"} within ${seconds} s (${named}); ${tail.text} (each at debug)`,
    );
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
