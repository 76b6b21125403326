/**
 * The bad-input tally of the twins: every rejected message counted in total, per reason and per node
 * named in its topic, and turned into the record the service logs and emits.
 */
import type { NodeId } from "../protocol/index.js";
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
