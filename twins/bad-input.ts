/**
 * The bad-input tally of the twins: every rejected message counted in total, per reason and per node
 * named in its topic (nodeOfTopic), and turned into the record the service logs and emits. And its
 * log: one line per bad input, but at most `BAD_INPUT_LINES` in a window of `BAD_INPUT_WINDOW_MS`;
 * past that the window's rest is one summary line at its end, and while a flood lasts (the window
 * before also overflowed) only the summaries are written. A rogue client sending 10,000 bad reports
 * a second wrote 10,000 lines a second.
 */
import type { Logger } from "pino";
import { LogWindow } from "../node/log-window.js";
import { type NodeId, type Prefix, parseTopic } from "../protocol/index.js";
import type { Scheduler } from "./clock.js";
import { BAD_INPUT_REASONS, type BadInput, type BadInputReason } from "./types.js";

export const BAD_INPUT_LINES = 20;
export const BAD_INPUT_WINDOW_MS = 10_000;

export class BadInputTally {
  private readonly counts = new Map<BadInputReason, number>(BAD_INPUT_REASONS.map((r) => [r, 0]));
  private readonly perNode = new Map<NodeId, number>();

  /** `known`: whether a node has a twin; a bad input is counted against a known node only. */
  constructor(private readonly known: (id: NodeId) => boolean = () => true) {}

  /**
   * Counts one bad input and returns it; against `node` too when it is known (a twin): a count for
   * an id with no twin was kept for good, one per made-up id.
   */
  record(reason: BadInputReason, topic: string, detail: string, node?: NodeId): BadInput {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
    if (node !== undefined && this.known(node)) this.perNode.set(node, (this.perNode.get(node) ?? 0) + 1);
    return { reason, topic, detail, ...(node !== undefined ? { node } : {}) };
  }

  /** The node's twin is gone (forgotten for room): its count with it. */
  forget(id: NodeId): void {
    this.perNode.delete(id);
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

export class BadInputLog {
  private readonly window: LogWindow<BadInputReason>;

  constructor(
    private readonly logger: Logger,
    scheduler: Scheduler,
  ) {
    this.window = new LogWindow(scheduler, BAD_INPUT_LINES, BAD_INPUT_WINDOW_MS, (held, total) => {
      const reasons = held.map(([r, n]) => `${n} ${r}`).join(", ");
      logger.warn(
        { byReason: Object.fromEntries(held) },
        `twins: ${total} more bad inputs in ${BAD_INPUT_WINDOW_MS / 1000} s, not logged one by one (${reasons}); ` +
          "each is counted (twinfleet_twins_bad_input_total on /metrics)",
      );
    });
  }

  log(input: BadInput): void {
    this.window.log(input.reason, () =>
      this.logger.warn(
        { node: input.node, reason: input.reason, topic: input.topic },
        `twins: bad input: ${input.detail}`,
      ),
    );
  }

  /** Writes what is held back and stops the timer. */
  stop(): void {
    this.window.stop();
  }
}
