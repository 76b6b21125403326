/**
 * The bad-input tally of the twins: every rejected message counted in total, per reason and per node
 * named in its topic (nodeOfTopic), and turned into the record the service logs and emits.
 */
import { type NodeId, type Prefix, parseTopic } from "../protocol/index.js";
import { BAD_INPUT_REASONS, type BadInput, type BadInputReason } from "./types.js";

export class BadInputTally {
  private readonly counts = new Map<BadInputReason, number>(BAD_INPUT_REASONS.map((r) => [r, 0]));
  private readonly perNode = new Map<NodeId, number>();

  /** Counts one bad input and returns it. */
  record(reason: BadInputReason, topic: string, detail: string, node?: NodeId): BadInput {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
    if (node !== undefined) this.perNode.set(node, (this.perNode.get(node) ?? 0) + 1);
    return { reason, topic, detail, ...(node !== undefined ? { node } : {}) };
  }

  totals(): { readonly total: number; readonly byReason: Record<BadInputReason, number> } {
    const byReason = Object.fromEntries(this.counts) as Record<BadInputReason, number>;
    return { total: [...this.counts.values()].reduce((a, b) => a + b, 0), byReason };
  }

  of(id: NodeId): number {
    return this.perNode.get(id) ?? 0;
  }
}

/** The node a topic names, if it is a well-formed topic of one (bad input is counted against it). */
export function nodeOfTopic(prefix: Prefix, topic: string): NodeId | undefined {
  try {
    const p = parseTopic(prefix, topic);
    return p.kind === "query" ? undefined : p.node;
  } catch {
    return undefined;
  }
}
